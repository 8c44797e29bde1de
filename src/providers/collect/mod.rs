//! Step 1-2: bring a reel's video and metadata in.

pub mod fake;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{CallContext, ProviderError};

#[derive(Debug, Clone)]
pub struct PrepareReel {
    pub source_url: Option<String>,
    pub options: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PreparedReel {
    pub source_url: Option<String>,
    pub caption: Option<String>,
    pub duration_ms: u64,
    pub width: u32,
    pub height: u32,
}

#[async_trait]
pub trait ReelSource: Send + Sync {
    async fn prepare(&self, request: &PrepareReel, ctx: &CallContext<'_>) -> Result<PreparedReel, ProviderError>;
}
