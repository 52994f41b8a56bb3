//! The built-in dashboard: one HTML page, one script and one style sheet, compiled into the
//! binary and served behind the same authentication as every other route.
//!
//! | path | answer |
//! |---|---|
//! | `GET /` | the page (`Cache-Control: no-cache`, so a new binary's page is seen at once) |
//! | `GET /ui/app.js` | the script (cached for a day; the page asks for it with a content hash) |
//! | `GET /ui/app.css` | the style sheet (same) |
//!
//! The page draws everything from the JSON API under `/api/v1`; pages are chosen by the URL's
//! fragment (`#/`, `#/group/<cluster>/<group>`, `#/topic/<cluster>/<topic>`). A
//! `Content-Security-Policy` allows nothing but this origin, so the page can make no request
//! to another host.

use crate::state::AppState;
use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::sync::OnceLock;

const INDEX: &str = include_str!("dashboard/index.html");
const APP_JS: &str = include_str!("dashboard/app.js");
const APP_CSS: &str = include_str!("dashboard/app.css");

/// Only this origin, no inline script or style.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The assets' sizes in bytes (page, script, style sheet), for page-weight figures.
pub fn asset_sizes() -> [(&'static str, usize); 3] {
    [
        ("/", index().len()),
        ("/ui/app.js", APP_JS.len()),
        ("/ui/app.css", APP_CSS.len()),
    ]
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(page))
        .route("/ui/app.js", get(script))
        .route("/ui/app.css", get(style))
}

/// FNV-1a, 64 bits: a content tag for ETags and cache-busting URLs.
fn tag(parts: &[&str]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
}

/// The page with the assets' URLs tagged by their content.
fn index() -> &'static str {
    static PAGE: OnceLock<String> = OnceLock::new();
    PAGE.get_or_init(|| INDEX.replace("{{v}}", &tag(&[APP_JS, APP_CSS])))
}

fn asset(
    headers: &HeaderMap,
    body: &'static str,
    content_type: &'static str,
    cache: &'static str,
) -> Response {
    let etag = format!("\"{}\"", tag(&[body]));
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut response = if matches {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, content_type)], body).into_response()
    };
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(value) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, value);
    }
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

async fn page(headers: HeaderMap) -> Response {
    asset(&headers, index(), "text/html; charset=utf-8", "no-cache")
}

async fn script(headers: HeaderMap) -> Response {
    asset(
        &headers,
        APP_JS,
        "text/javascript; charset=utf-8",
        "public, max-age=86400",
    )
}

async fn style(headers: HeaderMap) -> Response {
    asset(
        &headers,
        APP_CSS,
        "text/css; charset=utf-8",
        "public, max-age=86400",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_links_its_assets_by_content_tag_and_names_no_other_host() {
        let page = index();
        let v = tag(&[APP_JS, APP_CSS]);
        assert!(page.contains(&format!("/ui/app.js?v={v}")), "{page}");
        assert!(page.contains(&format!("/ui/app.css?v={v}")), "{page}");
        for text in [page, APP_JS, APP_CSS] {
            assert!(!text.contains("http://"), "an absolute URL in an asset");
            assert!(!text.contains("https://"), "an absolute URL in an asset");
            assert!(!text.contains("//cdn"), "a CDN in an asset");
        }
    }

    #[test]
    fn page_weight_stays_small() {
        let total: usize = asset_sizes().iter().map(|(_, n)| n).sum();
        assert!(total < 300 * 1024, "assets weigh {total} bytes");
    }
}
