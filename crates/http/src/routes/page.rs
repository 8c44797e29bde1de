//! The built-in trends page: static files compiled into the binary, so a deployment needs no
//! asset folder and no build step. It talks to the public API only.

use actix_web::{http::header, web, HttpResponse};

const PAGES: &[(&str, &str, &str)] = &[
    (
        "/",
        "text/html; charset=utf-8",
        include_str!("../../../../web/index.html"),
    ),
    (
        "/app.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../../web/app.js"),
    ),
    (
        "/app.css",
        "text/css; charset=utf-8",
        include_str!("../../../../web/app.css"),
    ),
];

pub fn configure(cfg: &mut web::ServiceConfig) {
    for &(path, content_type, body) in PAGES {
        cfg.route(
            path,
            web::get().to(move || async move {
                HttpResponse::Ok()
                    .insert_header((header::CONTENT_TYPE, content_type))
                    // Rebuilt binaries change the files; revalidate instead of caching stale code.
                    .insert_header((header::CACHE_CONTROL, "no-cache"))
                    .body(body)
            }),
        );
    }
}
