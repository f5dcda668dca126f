//! The log of the requests a simulator received, in arrival order, for tests to read.

use std::sync::Mutex;

/// Every request a simulator answered, as its own record type describes it.
#[derive(Debug)]
pub struct RequestLog<R>(Mutex<Vec<R>>);

impl<R> Default for RequestLog<R> {
    fn default() -> Self {
        RequestLog(Mutex::new(Vec::new()))
    }
}

impl<R: Clone> RequestLog<R> {
    pub fn push(&self, record: R) {
        super::lock(&self.0).push(record);
    }

    pub fn all(&self) -> Vec<R> {
        super::lock(&self.0).clone()
    }

    pub fn clear(&self) {
        super::lock(&self.0).clear();
    }
}
