//! Word lists the generators (PowerSchool's and Clever's) draw names and places from. A few names carry accents and
//! apostrophes on purpose, so text handling is exercised.

pub(crate) const FEMALE: &[&str] = &[
    "Olivia",
    "Emma",
    "Charlotte",
    "Amelia",
    "Sophia",
    "Mia",
    "Isabella",
    "Ava",
    "Evelyn",
    "Harper",
    "Chloé",
    "Zoë",
    "Aaliyah",
    "Priya",
    "Mei",
    "Fatima",
    "Amara",
    "Leah",
    "Hannah",
    "Grace",
    "Nora",
    "Lily",
    "Maya",
    "Sofía",
    "Ingrid",
    "Keira",
    "Anika",
    "Rosalie",
    "Jasmine",
    "Noémie",
    "Pat",
    "Sarah",
    "Karen",
    "Linda",
    "Maria",
    "Jennifer",
    "Nicole",
    "Tara",
    "Wren",
    "Elise",
];

pub(crate) const MALE: &[&str] = &[
    "Liam", "Noah", "Oliver", "Elijah", "James", "William", "Benjamin", "Lucas", "Henry",
    "Theodore", "Mateo", "Arjun", "Wei", "Omar", "Kwame", "Ethan", "Logan", "Owen", "Caleb",
    "Jonah", "Félix", "André", "Rowan", "Declan", "Dmitri", "Tariq", "Samuel", "Isaac", "Marcus",
    "David", "Michael", "Robert", "Daniel", "Kevin", "Brian", "Jamal", "Nikolai", "Hugo", "Reid",
    "Pat",
];

pub(crate) const LAST: &[&str] = &[
    "Smith",
    "Brown",
    "Tremblay",
    "Martin",
    "Roy",
    "Wilson",
    "MacDonald",
    "Gagnon",
    "Johnson",
    "Taylor",
    "Campbell",
    "Anderson",
    "Lee",
    "Nguyen",
    "Patel",
    "Singh",
    "Chen",
    "Wong",
    "Kim",
    "Khan",
    "Ali",
    "O'Brien",
    "O'Connor",
    "Lefèvre",
    "Côté",
    "Bélanger",
    "Müller",
    "García",
    "Hernández",
    "Okafor",
    "Mensah",
    "Kowalski",
    "Novak",
    "Yellowbird",
    "Cardinal",
    "Bear",
    "Doe",
    "Fraser",
    "Sinclair",
    "Mackenzie",
    "Desjardins",
    "Ivanov",
    "Haddad",
    "Rahman",
    "Abdi",
    "Santos",
    "Reyes",
    "Larsen",
    "Sato",
    "Tanaka",
    "Van der Berg",
    "St-Pierre",
];

pub(crate) const MIDDLE: &[&str] = &[
    "Lee",
    "Marie",
    "James",
    "Ann",
    "Rose",
    "John",
    "Grace",
    "Alexander",
    "Jean",
    "Kai",
];

pub(crate) const STREETS: &[&str] = &[
    "Elm St",
    "Maple Ave",
    "Bow Trail SW",
    "Centre St N",
    "Crowchild Trail NW",
    "Edmonton Trail NE",
    "17 Ave SE",
    "Macleod Trail S",
    "Sunridge Way NE",
    "Evergreen Dr SW",
    "Prairie Rd",
    "Aspen Cres",
    "Cedar Pl",
    "Willow Lane",
    "Heritage Blvd",
];

/// (city, province code, postal code first letter)
pub(crate) const CITIES: &[(&str, &str, char)] = &[
    ("Calgary", "AB", 'T'),
    ("Calgary", "AB", 'T'),
    ("Calgary", "AB", 'T'),
    ("Airdrie", "AB", 'T'),
    ("Cochrane", "AB", 'T'),
    ("Okotoks", "AB", 'T'),
    ("Chestermere", "AB", 'T'),
    ("Canmore", "AB", 'T'),
    ("Golden", "BC", 'V'),
];

pub(crate) const SCHOOL_NAMES: &[&str] = &[
    "Elm Park",
    "Riverbend",
    "Prairie Rose",
    "Bow Valley",
    "Chinook",
    "Glenbrook",
    "Sunalta",
    "Aspen Ridge",
    "Nose Hill",
    "Fish Creek",
    "Silver Springs",
    "Crescent Heights",
];

pub(crate) const EMAIL_DOMAINS: &[&str] = &["mail.example", "inbox.example", "post.example"];

/// The school district's own e-mail domain.
pub(crate) const DISTRICT_DOMAIN: &str = "district.example";

/// Lower-case ASCII letters and digits of a name, for e-mail addresses and logins
/// (`"Lefèvre"` → `"lefevre"`, `"O'Brien"` → `"obrien"`).
pub(crate) fn ascii_slug(name: &str) -> String {
    name.chars()
        .filter_map(|c| {
            let c = match c {
                'à' | 'á' | 'â' | 'ä' | 'À' | 'Á' => 'a',
                'é' | 'è' | 'ê' | 'ë' | 'É' | 'È' => 'e',
                'í' | 'ì' | 'î' | 'ï' => 'i',
                'ó' | 'ò' | 'ô' | 'ö' => 'o',
                'ú' | 'ù' | 'û' | 'ü' => 'u',
                'ç' | 'Ç' => 'c',
                'ñ' => 'n',
                c => c,
            };
            c.is_ascii_alphanumeric().then(|| c.to_ascii_lowercase())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_plain_ascii() {
        assert_eq!(ascii_slug("Lefèvre"), "lefevre");
        assert_eq!(ascii_slug("O'Brien"), "obrien");
        assert_eq!(ascii_slug("Van der Berg"), "vanderberg");
        assert_eq!(ascii_slug("Zoë"), "zoe");
    }
}
