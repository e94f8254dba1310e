//! Dotted key paths (`connection_pool.pool_size`, `servers[0].url`) that name a place in a YAML
//! document in error messages, overrides and the location index.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Segment {
    Key(String),
    Index(usize),
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyPath(Vec<Segment>);

impl KeyPath {
    #[must_use]
    pub fn root() -> Self {
        Self(Vec::new())
    }

    #[must_use]
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.0.push(Segment::Key(key.into()));
        self
    }

    #[must_use]
    pub fn index(mut self, index: usize) -> Self {
        self.0.push(Segment::Index(index));
        self
    }

    #[must_use]
    pub fn segments(&self) -> &[Segment] {
        &self.0
    }

    #[must_use]
    pub fn parent(&self) -> Option<Self> {
        let (_, parent) = self.0.split_last()?;
        Some(Self(parent.to_vec()))
    }

    /// The last key name, e.g. `pool_size` for `connection_pool.pool_size`.
    #[must_use]
    pub fn leaf(&self) -> Option<&str> {
        self.0.iter().rev().find_map(|segment| match segment {
            Segment::Key(key) => Some(key.as_str()),
            Segment::Index(_) => None,
        })
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(top level)");
        }
        for (position, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Key(key) if position == 0 => f.write_str(key)?,
                Segment::Key(key) => write!(f, ".{key}")?,
                Segment::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

impl FromStr for KeyPath {
    type Err = String;

    /// Parses `section.key`, `servers[0].url` and `servers.0.url`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut path = Self::root();
        for part in text.split('.') {
            let (name, mut rest) = part
                .split_once('[')
                .map_or((part, ""), |(name, rest)| (name, rest));
            if name.is_empty() && rest.is_empty() {
                return Err(format!(
                    "`{text}` has an empty key; write e.g. connection_pool.pool_size"
                ));
            }
            if !name.is_empty() {
                path = match name.parse::<usize>() {
                    Ok(index) => path.index(index),
                    Err(_) => path.key(name),
                };
            }
            while !rest.is_empty() {
                let (index, after) = rest
                    .split_once(']')
                    .ok_or_else(|| format!("`{text}` has an unclosed `[`"))?;
                let index = index
                    .parse::<usize>()
                    .map_err(|_| format!("`{text}`: `[{index}]` is not a list index"))?;
                path = path.index(index);
                rest = after.strip_prefix('[').unwrap_or(after);
            }
        }
        Ok(path)
    }
}

impl From<&serde_path_to_error::Path> for KeyPath {
    fn from(path: &serde_path_to_error::Path) -> Self {
        use serde_path_to_error::Segment as S;
        let mut key_path = Self::root();
        for segment in path {
            key_path = match segment {
                S::Seq { index } => key_path.index(*index),
                S::Map { key } => key_path.key(key.clone()),
                S::Enum { variant } => key_path.key(variant.clone()),
                S::Unknown => key_path,
            };
        }
        key_path
    }
}

impl From<&serde_ignored::Path<'_>> for KeyPath {
    fn from(path: &serde_ignored::Path<'_>) -> Self {
        use serde_ignored::Path as P;
        match path {
            P::Root => Self::root(),
            P::Seq { parent, index } => Self::from(*parent).index(*index),
            P::Map { parent, key } => Self::from(*parent).key(key.clone()),
            P::Some { parent } | P::NewtypeStruct { parent } | P::NewtypeVariant { parent } => {
                Self::from(*parent)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_text() {
        for text in [
            "connection_pool.pool_size",
            "servers[0].url",
            "servers[12].api_secret",
        ] {
            assert_eq!(text.parse::<KeyPath>().unwrap().to_string(), text);
        }
        assert_eq!(
            "servers.1.url".parse::<KeyPath>().unwrap(),
            KeyPath::root().key("servers").index(1).key("url")
        );
    }

    #[test]
    fn refuses_malformed_paths() {
        assert!("a..b".parse::<KeyPath>().is_err());
        assert!("servers[x].url".parse::<KeyPath>().is_err());
        assert!("servers[0.url".parse::<KeyPath>().is_err());
    }
}
