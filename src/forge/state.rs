//! What every request handler shares: the forge's configuration, its one
//! publish path and its static files. Its own file so that the handlers'
//! helpers (`auth`, `server`) both use it without using each other.

use std::sync::Arc;

use super::config::ForgeConfig;
use super::files::StaticFiles;
use crate::registry::publish::Publisher;

pub struct Forge {
    pub config: ForgeConfig,
    pub publisher: Publisher,
    pub files: StaticFiles,
}

pub type Shared = Arc<Forge>;
