//! The built-in creator's studio page: static files compiled into the binary, so a deployment
//! needs no asset folder and no build step (ES modules, one per view). It talks to the public API
//! only.

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
        "/i18n.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../../web/i18n.js"),
    ),
    (
        "/api.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../../web/api.js"),
    ),
    (
        "/trends.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../../web/trends.js"),
    ),
    (
        "/studio.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../../web/studio.js"),
    ),
    (
        "/publish.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../../web/publish.js"),
    ),
    (
        "/app.css",
        "text/css; charset=utf-8",
        include_str!("../../../../web/app.css"),
    ),
];

/// The paths the page is served at, so the API's `Allow` answers know them too.
pub fn paths() -> impl Iterator<Item = &'static str> {
    PAGES.iter().map(|&(path, ..)| path)
}

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
