//! Opening a registry entry of `distribution.yaml`: its location picks the
//! source (a directory, or a web server read through the cache) and its
//! pinned keys wire in [`super::trust`]. A distribution that lists no
//! registry reads the catalogue built into the binary ([`open_embedded`]).

use std::path::Path;

use super::cache::Cache;
use super::dir::DirSource;
use super::embedded::EmbeddedSource;
use super::http::HttpSource;
use super::signing::PublicKey;
use super::source::{FetchError, Source};

/// Opens the registry at `location`: an `http://` or `https://` URL (read
/// through `cache`; with `offline`, from the cache only), else a directory
/// (`file://` allowed), read in place.
pub fn open_source(
    location: &str,
    cache: &Cache,
    offline: bool,
) -> Result<Box<dyn Source>, FetchError> {
    open_pinned_source(location, &[], cache, offline)
}

/// [`open_source`] for a registry whose snapshot must be signed by one of
/// `keys` (OpenSSH public key lines; none: an unsigned registry). See
/// [`super::trust`] for what is then checked.
pub fn open_pinned_source(
    location: &str,
    keys: &[String],
    cache: &Cache,
    offline: bool,
) -> Result<Box<dyn Source>, FetchError> {
    let keys = keys
        .iter()
        .map(|k| PublicKey::parse(k))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| FetchError::InvalidKey {
            registry: location.to_owned(),
            error: Box::new(error),
        })?;
    if location.starts_with("http://") || location.starts_with("https://") {
        let source = HttpSource::new(location, cache.clone(), offline)?;
        return Ok(Box::new(if keys.is_empty() {
            source
        } else {
            source.pinned(keys)
        }));
    }
    let path = location.strip_prefix("file://").unwrap_or(location);
    let source = DirSource::open(Path::new(path))?;
    Ok(Box::new(if keys.is_empty() {
        source
    } else {
        source.pinned(keys, cache)
    }))
}

/// The association's catalogue built into this binary (see
/// [`super::embedded`]); archives are written into `cache` when used.
pub fn open_embedded(cache: &Cache) -> Result<Box<dyn Source>, FetchError> {
    Ok(Box::new(EmbeddedSource::open(cache)?))
}
