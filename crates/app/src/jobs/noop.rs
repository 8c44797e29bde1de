use async_trait::async_trait;

use super::{JobContext, JobError, JobHandler};

/// Does nothing; measures the queue itself.
pub struct Noop;

#[async_trait]
impl JobHandler for Noop {
    async fn run(&self, _ctx: &JobContext) -> Result<serde_json::Value, JobError> {
        Ok(serde_json::Value::Null)
    }
}
