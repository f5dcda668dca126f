//! A generated person's contact details: a postal address, a phone number, a mailing
//! address, a unique e-mail.

use super::super::data::PostalAddress;
use super::Builder;
use crate::kit::names;

impl Builder {
    pub(super) fn postal_address(&mut self) -> PostalAddress {
        let street = self.pick(names::STREETS);
        let (city, province, letter) = names::CITIES[self.rng.usize(0..names::CITIES.len())];
        let digit = |rng: &mut fastrand::Rng| char::from(b'0' + rng.u8(0..10));
        let upper = |rng: &mut fastrand::Rng| char::from(b'A' + rng.u8(0..26));
        let postal_code = format!(
            "{letter}{}{} {}{}{}",
            digit(&mut self.rng),
            upper(&mut self.rng),
            digit(&mut self.rng),
            upper(&mut self.rng),
            digit(&mut self.rng)
        );
        PostalAddress {
            street: format!("{} {street}", self.rng.u32(1..9999)),
            city: city.to_owned(),
            state_province: province.to_owned(),
            postal_code,
        }
    }

    pub(super) fn phone_number(&mut self) -> String {
        let area = ["403", "587", "825", "250"][self.rng.usize(0..4)];
        format!("{area}-555-{:04}", self.rng.u32(0..10000))
    }

    pub(super) fn mailing_address(&mut self, home: &PostalAddress) -> PostalAddress {
        PostalAddress {
            street: format!("PO Box {}", self.rng.u32(100..9999)),
            ..home.clone()
        }
    }

    /// A unique e-mail for a person (the id counter keeps it unique).
    pub fn email(&mut self, first: &str, last: &str) -> String {
        let n = self.id();
        let domain = self.pick(names::EMAIL_DOMAINS);
        format!(
            "{}.{}{}@{domain}",
            names::ascii_slug(first),
            names::ascii_slug(last),
            n % 100_000
        )
    }
}
