//! PostgreSQL: the queries, the job queue and the event log. It knows the vocabulary, no vendor
//! and no HTTP.

pub mod db;
pub mod events;
pub mod queue;

use reelforge_settings as config;
use reelforge_vocab::{domain, error_code, pagination, redact, signed};
