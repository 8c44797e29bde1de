//! The use cases and job handlers: steps, runs, collections, assets, voices, publishing, watch
//! and webhooks. It has its own error type ([`error::AppError`]) and knows no HTTP framework.

pub mod access;
pub mod assets;
pub mod collections;
pub mod dataset;
pub mod error;
pub mod footage;
pub mod jobs;
pub mod metrics;
pub mod projects;
pub mod publish;
pub mod rate_limit;
pub mod reels;
pub mod state;
pub mod steps;
pub mod voices;
pub mod watch;
pub mod workspaces;

use reelforge_media as media;
use reelforge_providers::{self as providers};
use reelforge_settings as config;
use reelforge_store::{db, events};
use reelforge_vocab::{budget, clock, domain, error_code, pagination, redact, script, signed};
