use std::{borrow::Cow, fmt, io::Write};

use tracing::field::{Field, Visit};
use tracing_subscriber::{
    field::{MakeVisitor, VisitFmt, VisitOutput},
    fmt::format::{DefaultVisitor, Writer},
    util::SubscriberInitExt,
    EnvFilter,
};

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
/// body, a request URL (`?access_token=`) or a header can carry a credential. And every line is
/// one line: what a caller sent (a path, a query, a header) or a vendor wrote is logged with its
/// control characters escaped, so it can neither forge a line of its own nor smuggle a NUL or a
/// terminal escape into the log.
pub fn subscriber<W>(
    filter: EnvFilter,
    json: bool,
    sink: impl Fn() -> W + Send + Sync + 'static,
) -> Box<dyn tracing::Subscriber + Send + Sync>
where
    W: Write + 'static,
{
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    if json {
        // JSON escapes C0 controls itself; the line breaks it leaves raw are escaped after.
        let writer = move || JsonLineBreaks(RedactingWriter(sink()));
        Box::new(builder.json().with_writer(writer).finish())
    } else {
        let writer = move || RedactingWriter(sink());
        Box::new(
            builder
                .fmt_fields(EscapedFields)
                .with_writer(writer)
                .finish(),
        )
    }
}

/// Whether `c` must not reach a log line raw: C0 and C1 controls (newlines, NUL, ESC, NEL)
/// and the Unicode line and paragraph separators.
fn breaks_lines(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')
}

/// `text` with each control character written as its Rust escape (`\n`, `\0`, `\u{85}`).
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    if !text.chars().any(breaks_lines) {
        return Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => escaped.push_str("\\n"),
            '\r' => escaped.push_str("\\r"),
            '\t' => escaped.push_str("\\t"),
            '\0' => escaped.push_str("\\0"),
            c if breaks_lines(c) => escaped.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => escaped.push(c),
        }
    }
    Cow::Owned(escaped)
}

/// tracing's text fields, each value escaped by [`escape_controls`]. Only values are escaped:
/// the formatter's own colours and the line's newline stay as they are.
struct EscapedFields;

impl<'a> MakeVisitor<Writer<'a>> for EscapedFields {
    type Visitor = Escaping<DefaultVisitor<'a>>;

    fn make_visitor(&self, target: Writer<'a>) -> Self::Visitor {
        Escaping(DefaultVisitor::new(target, true))
    }
}

struct Escaping<V>(V);

impl<V: Visit> Visit for Escaping<V> {
    fn record_str(&mut self, field: &Field, value: &str) {
        // Other fields are written as Debug, which escapes; the message is written raw.
        if field.name() == "message" {
            self.0.record_str(field, &escape_controls(value));
        } else {
            self.0.record_str(field, value);
        }
    }

    // Display values (`%path`), messages and errors all arrive here.
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let text = format!("{value:?}");
        self.0
            .record_debug(field, &format_args!("{}", escape_controls(&text)));
    }
}

impl<V: VisitOutput<fmt::Result>> VisitOutput<fmt::Result> for Escaping<V> {
    fn finish(self) -> fmt::Result {
        self.0.finish()
    }
}

impl<V: VisitFmt> VisitFmt for Escaping<V> {
    fn writer(&mut self) -> &mut dyn fmt::Write {
        self.0.writer()
    }
}

/// Writes JSON lines with the line breaks JSON allows raw in strings (C1 controls such as NEL,
/// U+2028, U+2029) and DEL escaped as `\uXXXX`: the same JSON, safe for line-based readers.
/// Outside strings a JSON line holds none of these, so the escape is always inside a string.
struct JsonLineBreaks<W>(W);

impl<W: Write> Write for JsonLineBreaks<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let raw = std::str::from_utf8(buf)
            .ok()
            .filter(|text| text.chars().any(|c| c != '\n' && breaks_lines(c)));
        match raw {
            Some(text) => {
                let mut escaped = String::with_capacity(text.len() + 12);
                for c in text.chars() {
                    if c != '\n' && breaks_lines(c) {
                        escaped.push_str(&format!("\\u{:04x}", c as u32));
                    } else {
                        escaped.push(c);
                    }
                }
                self.0.write_all(escaped.as_bytes())?;
            }
            None => self.0.write_all(buf)?,
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
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

    impl Capture {
        /// A capture that the service's subscriber writes to, on this thread until the guard
        /// drops.
        fn installed(json: bool) -> (Self, tracing::subscriber::DefaultGuard) {
            let capture = Capture::default();
            let sink = capture.clone();
            let guard = tracing::subscriber::set_default(subscriber(
                EnvFilter::new("info"),
                json,
                move || sink.clone(),
            ));
            (capture, guard)
        }

        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    #[actix_web::test]
    async fn the_request_log_never_shows_a_token() {
        for json in [false, true] {
            let (capture, _guard) = Capture::installed(json);
            let app = test::init_service(App::new().wrap(TracingLogger::default()).route(
                "/v1/events",
                web::get().to(|| async {
                    Err::<HttpResponse, _>(ApiError::from(
                        reelforge_app::error::AppError::Unauthorized,
                    ))
                }),
            ))
            .await;
            let request = test::TestRequest::get()
                .uri("/v1/events?access_token=rf_SecretToken0123456789&project_id=zzz")
                .insert_header(("Authorization", "Bearer rf_HeaderToken0123456789"))
                .to_request();
            let response = test::call_service(&app, request).await;
            assert_eq!(response.status(), 401);
            let logged = capture.text();
            assert!(
                logged.contains("/v1/events"),
                "the request was logged: {logged}"
            );
            assert!(!logged.contains("rf_SecretToken"), "{logged}");
            assert!(!logged.contains("rf_HeaderToken"), "{logged}");
        }
    }

    #[actix_web::test]
    async fn what_a_caller_sends_is_logged_on_its_own_line_escaped() {
        // A newline and a forged line, a NUL, a terminal escape, NEL and U+2028.
        let sent = "/echo/x%0A2026-12-06T00:00:00.000000Z%20ERROR%20reelforge:%20FORGED%00%1B]0;title%07%C2%85next%E2%80%A8next";
        let raw = "x\n2026-12-06T00:00:00.000000Z ERROR reelforge: FORGED\0\u{1b}]0;title\u{7}\u{85}next\u{2028}next";
        let escaped = r"x\n2026-12-06T00:00:00.000000Z ERROR reelforge: FORGED\0\u{1b}]0;title\u{7}\u{85}next\u{2028}next";
        for json in [false, true] {
            let (capture, _guard) = Capture::installed(json);
            // The value reaches the log as a span field (the error the request ended with) and
            // as an event's message.
            let app = test::init_service(App::new().wrap(TracingLogger::default()).route(
                "/echo/{value}",
                web::get().to(|value: web::Path<String>| async move {
                    tracing::warn!("echo {value}");
                    Err::<HttpResponse, _>(ApiError::from(
                        reelforge_app::error::AppError::bad_request(
                            crate::error_code::ErrorCode::InvalidPathParameter,
                            value.into_inner(),
                        ),
                    ))
                }),
            ))
            .await;
            let response =
                test::call_service(&app, test::TestRequest::get().uri(sent).to_request()).await;
            assert_eq!(response.status(), 400);
            let logged = capture.text();
            assert_eq!(logged.lines().count(), 2, "two events, two lines: {logged}");
            for c in ['\0', '\u{85}', '\u{2028}', '\u{7}', '\r'] {
                assert!(!logged.contains(c), "{c:?} in {logged:?}");
            }
            assert!(!logged.contains("\x1b]0;"), "{logged:?}");
            if json {
                // JSON escapes are lossless: the value reads back whole.
                let first: serde_json::Value =
                    serde_json::from_str(logged.lines().next().unwrap()).unwrap();
                assert_eq!(first["fields"]["message"], format!("echo {raw}"));
            } else {
                assert!(logged.contains(escaped), "{logged}");
            }
        }
    }

    // `test` here is actix's module, so its attribute runs this one too.
    #[actix_web::test]
    async fn control_characters_are_escaped_and_plain_text_is_left_alone() {
        assert_eq!(
            escape_controls("a\nb\r\tc\0\u{1b}[2m\u{2029}"),
            "a\\nb\\r\\tc\\0\\u{1b}[2m\\u{2029}"
        );
        assert!(matches!(escape_controls("plain é ✓"), Cow::Borrowed(_)));
    }
}
