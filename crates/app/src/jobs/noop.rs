use async_trait::async_trait;

use super::{Handler, JobContext, JobError};
use crate::domain::job::StepJob;

/// Does nothing; measures the queue itself.
pub struct Noop;

#[async_trait]
impl Handler for Noop {
    type Input = StepJob;
    type Output = ();

    async fn handle(&self, _: &JobContext, _: StepJob) -> Result<(), JobError> {
        Ok(())
    }
}
