//! The `keys:` section as the configuration holds it: each action name with the keys written
//! for it, kept as text. The dashboard's key map parses and checks them; the configuration
//! knows nothing of keys or actions.

use std::fmt;

use serde::de::{self, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The keys of one action as written in the configuration: one key or a list (`[]` unbinds).
/// The text is kept raw; the dashboard's key map parses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyList {
    One(String),
    Many(Vec<String>),
}

impl KeyList {
    #[must_use]
    pub(crate) fn as_slice(&self) -> &[String] {
        match self {
            Self::One(key) => std::slice::from_ref(key),
            Self::Many(keys) => keys,
        }
    }

    /// Whether the keys were written as a list, so a problem can name the element.
    #[must_use]
    pub(crate) fn is_list(&self) -> bool {
        matches!(self, Self::Many(_))
    }
}

impl From<&str> for KeyList {
    fn from(key: &str) -> Self {
        Self::One(key.to_owned())
    }
}

impl<const N: usize> From<[&str; N]> for KeyList {
    fn from(keys: [&str; N]) -> Self {
        Self::Many(keys.iter().map(|key| (*key).to_owned()).collect())
    }
}

impl Serialize for KeyList {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::One(key) => serializer.serialize_str(key),
            Self::Many(keys) => keys.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for KeyList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ListVisitor;

        impl<'de> Visitor<'de> for ListVisitor {
            type Value = KeyList;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key such as \"ctrl+f\", a list of keys, or [] to unbind")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<KeyList, E> {
                Ok(KeyList::One(text.to_owned()))
            }

            fn visit_u64<E: de::Error>(self, number: u64) -> Result<KeyList, E> {
                Ok(KeyList::One(number.to_string()))
            }

            fn visit_i64<E: de::Error>(self, number: i64) -> Result<KeyList, E> {
                Ok(KeyList::One(number.to_string()))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<KeyList, A::Error> {
                let mut keys = Vec::new();
                while let Some(KeyText(key)) = seq.next_element()? {
                    keys.push(key);
                }
                Ok(KeyList::Many(keys))
            }
        }

        deserializer.deserialize_any(ListVisitor)
    }
}

/// The text of one key; a bare digit (`1` in YAML is a number) is taken as its text.
pub(crate) struct KeyText(pub(crate) String);

impl<'de> Deserialize<'de> for KeyText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;

        impl Visitor<'_> for TextVisitor {
            type Value = KeyText;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key such as \"ctrl+f\"")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<KeyText, E> {
                Ok(KeyText(text.to_owned()))
            }

            fn visit_u64<E: de::Error>(self, number: u64) -> Result<KeyText, E> {
                Ok(KeyText(number.to_string()))
            }

            fn visit_i64<E: de::Error>(self, number: i64) -> Result<KeyText, E> {
                Ok(KeyText(number.to_string()))
            }
        }

        deserializer.deserialize_any(TextVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_reads_and_writes_text() {
        let one: KeyList = serde_yaml::from_str("\"?\"").unwrap();
        assert_eq!(one, KeyList::from("?"));
        let many: KeyList = serde_yaml::from_str("[q, 1, ctrl+c]").unwrap();
        assert_eq!(many, KeyList::from(["q", "1", "ctrl+c"]));
        let digit: KeyList = serde_yaml::from_str("2").unwrap();
        assert_eq!(digit, KeyList::from("2"));
        assert!(serde_yaml::from_str::<KeyList>("{a: b}").is_err());
        assert_eq!(
            serde_yaml::to_string(&many).unwrap(),
            "- q\n- '1'\n- ctrl+c\n"
        );
    }
}
