//! The composition root's one list of connectors: adding a source is one line here.

use std::sync::Arc;

use connector::Registry;

pub fn connectors() -> Registry {
    Registry::new()
        .register(Arc::new(powerschool::PowerSchoolFactory))
        .register(Arc::new(clever::CleverFactory))
        .register(Arc::new(classlink::ClassLinkFactory))
}
