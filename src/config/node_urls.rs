//! The two addresses a server's nodes are read from besides its API: the Prometheus
//! endpoints (`metrics_url`, one per node of a cluster) and the Redis node registry
//! (`redis_url`, whose password is a secret).

use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use serde::de::{self, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::mask::MASK;

/// `metrics_url`: one URL, or a list of them (a cluster has one endpoint per node).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetricsUrls(pub Vec<String>);

impl MetricsUrls {
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }
}

impl Serialize for MetricsUrls {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0.as_slice() {
            [one] => serializer.serialize_str(one),
            many => many.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for MetricsUrls {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OneOrMany;
        impl<'de> Visitor<'de> for OneOrMany {
            type Value = MetricsUrls;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a URL or a list of URLs")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<MetricsUrls, E> {
                Ok(MetricsUrls(vec![text.to_owned()]))
            }

            fn visit_unit<E: de::Error>(self) -> Result<MetricsUrls, E> {
                Ok(MetricsUrls::default())
            }

            fn visit_none<E: de::Error>(self) -> Result<MetricsUrls, E> {
                Ok(MetricsUrls::default())
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<MetricsUrls, A::Error> {
                let mut urls = Vec::new();
                while let Some(url) = seq.next_element::<String>()? {
                    urls.push(url);
                }
                Ok(MetricsUrls(urls))
            }
        }
        deserializer.deserialize_any(OneOrMany)
    }
}

/// `redis_url`, e.g. `rediss://:password@redis.internal:6379/0`. Its password is a secret:
/// printed, logged and shown as the mask.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct RedisUrl(SecretString);

impl RedisUrl {
    #[must_use]
    pub fn new(url: &str) -> Self {
        Self(SecretString::from(url))
    }

    /// The URL with its password, for the one place that connects.
    #[must_use]
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// The URL with any password replaced by the mask: what screens, logs and
    /// `check-config` show.
    #[must_use]
    pub fn masked(&self) -> String {
        let text = self.expose();
        match url::Url::parse(text) {
            Ok(mut url) if url.password().is_some() => {
                // Only fails for URLs that cannot have a password, which this one has.
                let _ = url.set_password(Some(MASK));
                url.to_string()
            }
            Ok(_) => text.to_owned(),
            // Not a URL at all: validation says so; it may still hold a password.
            Err(_) => MASK.to_owned(),
        }
    }
}

impl PartialEq for RedisUrl {
    fn eq(&self, other: &Self) -> bool {
        self.expose() == other.expose()
    }
}

impl fmt::Debug for RedisUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RedisUrl({})", self.masked())
    }
}

impl fmt::Display for RedisUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl Serialize for RedisUrl {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_url_or_a_list_both_load_and_print_back_as_written() {
        let one: MetricsUrls = serde_yaml::from_str("http://a:6789/metrics").unwrap();
        assert_eq!(one.0, ["http://a:6789/metrics"]);
        assert_eq!(
            serde_yaml::to_string(&one).unwrap().trim(),
            "http://a:6789/metrics"
        );
        let many: MetricsUrls =
            serde_yaml::from_str("[http://a/metrics, http://b/metrics]").unwrap();
        assert_eq!(many.0.len(), 2);
        assert!(serde_yaml::from_str::<MetricsUrls>("{a: 1}").is_err());
    }

    #[test]
    fn a_redis_password_is_never_printed() {
        let url = RedisUrl::new("rediss://:hunter2@redis.internal:6379/0");
        for shown in [
            url.to_string(),
            format!("{url:?}"),
            serde_yaml::to_string(&url).unwrap(),
        ] {
            assert!(!shown.contains("hunter2"), "{shown}");
            assert!(shown.contains("redis.internal"), "{shown}");
        }
        assert_eq!(url.expose(), "rediss://:hunter2@redis.internal:6379/0");
        assert_eq!(
            RedisUrl::new("redis://127.0.0.1:6379").masked(),
            "redis://127.0.0.1:6379"
        );
    }
}
