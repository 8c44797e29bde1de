use std::io::Write;

use tracing_subscriber::{fmt, util::SubscriberInitExt, EnvFilter};

use crate::redact::RedactingWriter;

/// Logs go to stderr so that commands printing data (`openapi`, `token create`) keep stdout clean.
/// `REELFORGE_LOG_FORMAT=json` switches to one JSON object per line for log shippers.
pub fn init(default_filter: &str) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let json = std::env::var("REELFORGE_LOG_FORMAT").as_deref() == Ok("json");
    // Also forwards `log` records (some dependencies use it), as `fmt().try_init()` did.
    let result = subscriber(filter, json, std::io::stderr).try_init();
    // A second init (tests, or a library user that set its own subscriber) keeps the first one.
    drop(result);
}

/// The service's subscriber writing to `sink`. Every line passes the redactor: a vendor's error
/// body, a request URL (`?access_token=`) or a header can carry a credential.
pub fn subscriber<W>(
    filter: EnvFilter,
    json: bool,
    sink: impl Fn() -> W + Send + Sync + 'static,
) -> Box<dyn tracing::Subscriber + Send + Sync>
where
    W: Write + 'static,
{
    let writer = move || RedactingWriter(sink());
    let builder = fmt().with_env_filter(filter).with_writer(writer);
    if json {
        Box::new(builder.json().finish())
    } else {
        Box::new(builder.finish())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use actix_web::{test, web, App, HttpResponse};
    use tracing_actix_web::TracingLogger;

    use super::*;
    use crate::error::ApiError;

    #[derive(Clone, Default)]
    struct Capture(Arc<Mutex<Vec<u8>>>);

    impl Write for Capture {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[actix_web::test]
    async fn the_request_log_never_shows_a_token() {
        for json in [false, true] {
            let capture = Capture::default();
            let sink = capture.clone();
            let _guard = tracing::subscriber::set_default(subscriber(
                EnvFilter::new("info"),
                json,
                move || sink.clone(),
            ));
            let app = test::init_service(App::new().wrap(TracingLogger::default()).route(
                "/v1/events",
                web::get().to(|| async { Err::<HttpResponse, _>(ApiError::Unauthorized) }),
            ))
            .await;
            let request = test::TestRequest::get()
                .uri("/v1/events?access_token=rf_SecretToken0123456789&project_id=zzz")
                .insert_header(("Authorization", "Bearer rf_HeaderToken0123456789"))
                .to_request();
            let response = test::call_service(&app, request).await;
            assert_eq!(response.status(), 401);
            let logged = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
            assert!(
                logged.contains("/v1/events"),
                "the request was logged: {logged}"
            );
            assert!(!logged.contains("rf_SecretToken"), "{logged}");
            assert!(!logged.contains("rf_HeaderToken"), "{logged}");
        }
    }
}
