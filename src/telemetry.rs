use tracing_subscriber::{fmt, EnvFilter};

/// Logs go to stderr so that commands printing data (`openapi`, `token create`) keep stdout clean.
/// `REELFORGE_LOG_FORMAT=json` switches to one JSON object per line for log shippers.
pub fn init(default_filter: &str) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    // Every line passes the redactor: a vendor's error body or a request URL can carry a key.
    let builder = fmt()
        .with_env_filter(filter)
        .with_writer(|| crate::redact::RedactingWriter(std::io::stderr()));
    let result = if std::env::var("REELFORGE_LOG_FORMAT").as_deref() == Ok("json") {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
    // A second init (tests, or a library user that set its own subscriber) keeps the first one.
    drop(result);
}
