//! Client authentication: one check in front of every route, and the admin token that
//! mutating endpoints ask for.

use crate::settings::Auth;
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use lagwatch_core::secret::Secret;

/// Set on a request whose `Authorization` header carries the admin token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Admin(pub(crate) bool);

/// Compares in time independent of where the first difference is.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn bearer_matches(headers: &HeaderMap, token: &Secret) -> bool {
    headers
        .get_all(header::AUTHORIZATION)
        .iter()
        .filter_map(|v| v.as_bytes().strip_prefix(b"Bearer "))
        .any(|given| {
            !token.expose().is_empty() && same(given.trim_ascii(), token.expose().as_bytes())
        })
}

fn basic_matches(headers: &HeaderMap, username: &str, password: &Secret) -> bool {
    let expected = base64::engine::general_purpose::STANDARD
        .encode(format!("{username}:{}", password.expose()));
    headers
        .get_all(header::AUTHORIZATION)
        .iter()
        .filter_map(|v| v.as_bytes().strip_prefix(b"Basic "))
        .any(|given| same(given.trim_ascii(), expected.as_bytes()))
}

/// Whether the headers carry the admin token (always `false` without one configured).
pub(crate) fn is_admin(headers: &HeaderMap, admin: Option<&Secret>) -> bool {
    admin.is_some_and(|token| bearer_matches(headers, token))
}

/// Whether the headers allow reading.
pub(crate) fn may_read(headers: &HeaderMap, auth: &Auth, admin: Option<&Secret>) -> bool {
    if is_admin(headers, admin) {
        return true;
    }
    match auth {
        Auth::None => true,
        Auth::Bearer(token) => bearer_matches(headers, token),
        Auth::Basic { username, password } => basic_matches(headers, username, password),
    }
}

/// The middleware: 401 for a client without valid credentials, otherwise marks admin
/// requests and passes them on.
pub(crate) async fn require(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let settings = &state.settings;
    let admin_token = settings.admin_token.as_ref();
    if !may_read(request.headers(), &settings.auth, admin_token) {
        let challenge = match settings.auth {
            Auth::Basic { .. } => "Basic realm=\"lagwatch\"",
            _ => "Bearer realm=\"lagwatch\"",
        };
        let body = crate::reply::error_with(
            StatusCode::UNAUTHORIZED,
            "authentication required",
            request.uri().path(),
            &settings.host,
        );
        let mut response = (StatusCode::UNAUTHORIZED, body).into_response();
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(challenge),
        );
        return response;
    }
    let admin = Admin(is_admin(request.headers(), admin_token));
    request.extensions_mut().insert(admin);
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Ok(v) = HeaderValue::from_str(value) {
            h.insert(header::AUTHORIZATION, v);
        }
        h
    }

    #[test]
    fn bearer_and_basic_credentials_are_checked() {
        let bearer = Auth::Bearer(Secret::new("s3cret".to_owned()));
        assert!(may_read(&headers("Bearer s3cret"), &bearer, None));
        assert!(!may_read(&headers("Bearer wrong"), &bearer, None));
        assert!(!may_read(&HeaderMap::new(), &bearer, None));

        let basic = Auth::Basic {
            username: "telegraf".into(),
            password: Secret::new("pw".to_owned()),
        };
        // base64("telegraf:pw")
        assert!(may_read(&headers("Basic dGVsZWdyYWY6cHc="), &basic, None));
        assert!(!may_read(&headers("Basic dGVsZWdyYWY6eHg="), &basic, None));
        assert!(may_read(&HeaderMap::new(), &Auth::None, None));
    }

    #[test]
    fn the_admin_token_also_reads_and_an_empty_token_never_matches() {
        let admin = Secret::new("root".to_owned());
        let bearer = Auth::Bearer(Secret::new("reader".to_owned()));
        assert!(may_read(&headers("Bearer root"), &bearer, Some(&admin)));
        assert!(is_admin(&headers("Bearer root"), Some(&admin)));
        assert!(!is_admin(&headers("Bearer reader"), Some(&admin)));
        assert!(!is_admin(&headers("Bearer root"), None));
        let empty = Secret::new(String::new());
        assert!(!is_admin(&headers("Bearer "), Some(&empty)));
    }
}
