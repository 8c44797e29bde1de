//! The vocabulary of reelforge: resources and their typed inputs and outputs, options, events,
//! the error-code enum, the step table, and the rules on posts and scripts that are pure
//! functions. It knows no database, vendor or HTTP; every other crate speaks it.

pub mod budget;
pub mod clock;
pub mod domain;
pub mod error_code;
pub mod pagination;
pub mod redact;
pub mod script;
pub mod signed;
