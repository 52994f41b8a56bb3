//! Headless Chromium driven over W3C WebDriver (`LAGWATCH_TEST_CHROMIUM` and
//! `LAGWATCH_TEST_CHROMEDRIVER`, installed by `scripts/services up chromium`).
//!
//! [`Browser::start`] runs Debian's `chromedriver` on a free loopback port and opens one
//! headless session with a temporary profile; the methods navigate, find elements, read their
//! text and attributes, run scripts, wait for conditions, emulate a dark colour scheme and save
//! PNG screenshots. The session
//! is ended and chromedriver killed when the value is dropped.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use std::time::Duration;
//! use lagwatch_test_support::services::browser::Browser;
//!
//! let browser = Browser::start().await?;
//! browser.goto("http://127.0.0.1:8000/").await?;
//! let rows = browser
//!     .wait_for_elements("tr.group-row", 1, Duration::from_secs(10))
//!     .await?;
//! let status = browser.attribute(&rows[0], "data-status").await?;
//! browser.screenshot(std::path::Path::new("overview.png")).await?;
//! # Ok(()) }
//! ```

use std::fs::File;
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use base64::Engine as _;
use serde_json::{Value, json};

use super::{env, net, wait};

/// How long [`Browser::start`] waits for chromedriver and the session.
pub const START_TIMEOUT: Duration = Duration::from_secs(60);

/// The W3C key of an element reference.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Path of the Chromium binary (`LAGWATCH_TEST_CHROMIUM`).
#[track_caller]
pub fn chromium() -> PathBuf {
    PathBuf::from(env::require("LAGWATCH_TEST_CHROMIUM", "chromium"))
}

/// Path of chromedriver (`LAGWATCH_TEST_CHROMEDRIVER`).
#[track_caller]
pub fn chromedriver() -> PathBuf {
    PathBuf::from(env::require("LAGWATCH_TEST_CHROMEDRIVER", "chromium"))
}

/// An element found on the page (a WebDriver element reference).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element(String);

/// A headless Chromium session; ended (and chromedriver killed) when dropped.
pub struct Browser {
    driver: Child,
    addr: SocketAddr,
    session: String,
    client: reqwest::Client,
    dir: tempfile::TempDir,
}

impl std::fmt::Debug for Browser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Browser")
            .field("chromedriver_pid", &self.driver.id())
            .field("addr", &self.addr)
            .field("session", &self.session)
            .finish_non_exhaustive()
    }
}

impl Browser {
    /// Starts chromedriver and a headless session with a 1280×1000 window.
    pub async fn start() -> anyhow::Result<Browser> {
        Browser::start_with_size(1280, 1000).await
    }

    /// Starts chromedriver and a headless session with a `width`×`height` window.
    pub async fn start_with_size(width: u32, height: u32) -> anyhow::Result<Browser> {
        let chromium = chromium();
        let driver_bin = chromedriver();
        let dir = tempfile::Builder::new()
            .prefix("lagwatch-chromium-")
            .tempdir()
            .context("cannot create a temporary directory for Chromium")?;
        let addr = net::free_addr()?;
        let log_path = dir.path().join("chromedriver.log");
        let log = File::create(&log_path)
            .with_context(|| format!("cannot create {}", log_path.display()))?;
        let log_err = log.try_clone().context("cannot duplicate the log file")?;
        let driver = Command::new(&driver_bin)
            .arg(format!("--port={}", addr.port()))
            .arg(format!("--log-path={}", log_path.display()))
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .with_context(|| format!("cannot start {}", driver_bin.display()))?;
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .context("cannot build an HTTP client")?;
        let mut browser = Browser {
            driver,
            addr,
            session: String::new(),
            client,
            dir,
        };
        let status_url = format!("http://{addr}/status");
        let probe_client = browser.client.clone();
        wait::until(
            &format!("chromedriver at {addr}"),
            START_TIMEOUT,
            Duration::from_millis(100),
            || {
                let client = probe_client.clone();
                let url = status_url.clone();
                async move {
                    let body: Value = client.get(&url).send().await?.json().await?;
                    Ok(body["value"]["ready"]
                        .as_bool()
                        .unwrap_or(false)
                        .then_some(()))
                }
            },
        )
        .await
        .with_context(|| browser.log_tail())?;
        let profile = browser.dir.path().join("profile");
        let capabilities = json!({
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "goog:chromeOptions": {
                        "binary": chromium,
                        "args": [
                            "--headless=new",
                            "--no-sandbox",
                            "--disable-gpu",
                            "--disable-dev-shm-usage",
                            "--no-first-run",
                            "--disable-extensions",
                            "--disable-background-networking",
                            "--disable-sync",
                            "--disable-component-update",
                            "--disable-default-apps",
                            "--no-default-browser-check",
                            "--hide-scrollbars",
                            format!("--user-data-dir={}", profile.display()),
                            format!("--window-size={width},{height}"),
                        ],
                    },
                },
            },
        });
        let created = browser
            .call(reqwest::Method::POST, "/session", Some(capabilities))
            .await
            .with_context(|| format!("cannot open a Chromium session\n{}", browser.log_tail()))?;
        browser.session = created["sessionId"]
            .as_str()
            .ok_or_else(|| anyhow!("no sessionId in chromedriver's answer: {created}"))?
            .to_owned();
        Ok(browser)
    }

    /// The last lines of chromedriver's log.
    pub fn log_tail(&self) -> String {
        let text =
            std::fs::read_to_string(self.dir.path().join("chromedriver.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// One WebDriver command; returns its `value`, or an error with WebDriver's message.
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let url = format!("http://{}{path}", self.addr);
        let mut request = self.client.request(method.clone(), &url);
        if let Some(body) = body {
            request = request.json(&body);
        } else if method == reqwest::Method::POST {
            request = request.json(&json!({}));
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("{method} {path}"))?;
        let status = response.status();
        let body: Value = response
            .json()
            .await
            .with_context(|| format!("{method} {path}: not JSON"))?;
        let value = body.get("value").cloned().unwrap_or(Value::Null);
        if !status.is_success() {
            bail!(
                "{method} {path}: {status}: {} {}",
                value["error"].as_str().unwrap_or(""),
                value["message"].as_str().unwrap_or("")
            );
        }
        Ok(value)
    }

    fn session_path(&self, rest: &str) -> String {
        format!("/session/{}{rest}", self.session)
    }

    /// Navigates to `url` (waits for the page's load event).
    pub async fn goto(&self, url: &str) -> anyhow::Result<()> {
        self.call(
            reqwest::Method::POST,
            &self.session_path("/url"),
            Some(json!({ "url": url })),
        )
        .await
        .with_context(|| format!("cannot open {url}"))?;
        Ok(())
    }

    /// The page's current URL.
    pub async fn url(&self) -> anyhow::Result<String> {
        let v = self
            .call(reqwest::Method::GET, &self.session_path("/url"), None)
            .await?;
        Ok(v.as_str().unwrap_or_default().to_owned())
    }

    /// Every element matching the CSS `selector` (possibly none).
    pub async fn find_all(&self, selector: &str) -> anyhow::Result<Vec<Element>> {
        let v = self
            .call(
                reqwest::Method::POST,
                &self.session_path("/elements"),
                Some(json!({ "using": "css selector", "value": selector })),
            )
            .await
            .with_context(|| format!("cannot look for {selector:?}"))?;
        Ok(v.as_array()
            .map(|list| {
                list.iter()
                    .filter_map(|e| e[ELEMENT_KEY].as_str())
                    .map(|id| Element(id.to_owned()))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// The first element matching `selector`, or an error naming it.
    pub async fn find(&self, selector: &str) -> anyhow::Result<Element> {
        self.find_all(selector)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| anyhow!("no element matches {selector:?}"))
    }

    /// Elements under `parent` matching `selector`.
    pub async fn find_within(
        &self,
        parent: &Element,
        selector: &str,
    ) -> anyhow::Result<Vec<Element>> {
        let v = self
            .call(
                reqwest::Method::POST,
                &self.session_path(&format!("/element/{}/elements", parent.0)),
                Some(json!({ "using": "css selector", "value": selector })),
            )
            .await?;
        Ok(v.as_array()
            .map(|list| {
                list.iter()
                    .filter_map(|e| e[ELEMENT_KEY].as_str())
                    .map(|id| Element(id.to_owned()))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// The rendered text of `element`.
    pub async fn text(&self, element: &Element) -> anyhow::Result<String> {
        let v = self
            .call(
                reqwest::Method::GET,
                &self.session_path(&format!("/element/{}/text", element.0)),
                None,
            )
            .await?;
        Ok(v.as_str().unwrap_or_default().to_owned())
    }

    /// An attribute of `element` (`None` when it has none).
    pub async fn attribute(&self, element: &Element, name: &str) -> anyhow::Result<Option<String>> {
        let v = self
            .call(
                reqwest::Method::GET,
                &self.session_path(&format!("/element/{}/attribute/{name}", element.0)),
                None,
            )
            .await?;
        Ok(v.as_str().map(str::to_owned))
    }

    /// Clicks `element`.
    pub async fn click(&self, element: &Element) -> anyhow::Result<()> {
        self.call(
            reqwest::Method::POST,
            &self.session_path(&format!("/element/{}/click", element.0)),
            None,
        )
        .await?;
        Ok(())
    }

    /// Runs `script` (a function body; `arguments[i]` are `args`) and returns its result.
    pub async fn execute(&self, script: &str, args: Vec<Value>) -> anyhow::Result<Value> {
        self.call(
            reqwest::Method::POST,
            &self.session_path("/execute/sync"),
            Some(json!({ "script": script, "args": args })),
        )
        .await
        .with_context(|| format!("script failed: {script}"))
    }

    /// Polls `script` until it returns something other than `null`/`false`, for at most
    /// `timeout`; returns that value.
    pub async fn wait_for_script(&self, script: &str, timeout: Duration) -> anyhow::Result<Value> {
        wait::until(
            &format!("script {script:?} to hold"),
            timeout,
            Duration::from_millis(100),
            || async move {
                let v = self.execute(script, Vec::new()).await?;
                Ok((!v.is_null() && v != Value::Bool(false)).then_some(v))
            },
        )
        .await
    }

    /// Waits until at least `n` elements match `selector`, for at most `timeout`.
    pub async fn wait_for_elements(
        &self,
        selector: &str,
        n: usize,
        timeout: Duration,
    ) -> anyhow::Result<Vec<Element>> {
        wait::until(
            &format!("{n} element(s) matching {selector:?}"),
            timeout,
            Duration::from_millis(100),
            || async move {
                let found = self.find_all(selector).await?;
                Ok((found.len() >= n).then_some(found))
            },
        )
        .await
    }

    /// Saves a PNG screenshot of the window at `path` (creating its directory); returns its
    /// size in bytes.
    pub async fn screenshot(&self, path: &Path) -> anyhow::Result<usize> {
        let v = self
            .call(
                reqwest::Method::GET,
                &self.session_path("/screenshot"),
                None,
            )
            .await?;
        save_png(v.as_str().unwrap_or_default(), path)
    }

    /// Saves a PNG screenshot of the whole page, beyond the window's height, at `path`.
    pub async fn screenshot_full_page(&self, path: &Path) -> anyhow::Result<usize> {
        let v = self
            .cdp(
                "Page.captureScreenshot",
                json!({ "format": "png", "captureBeyondViewport": true }),
            )
            .await?;
        save_png(v["data"].as_str().unwrap_or_default(), path)
    }

    /// Runs a Chrome DevTools Protocol command (chromedriver's `goog/cdp/execute`).
    pub async fn cdp(&self, command: &str, params: Value) -> anyhow::Result<Value> {
        self.call(
            reqwest::Method::POST,
            &self.session_path("/goog/cdp/execute"),
            Some(json!({ "cmd": command, "params": params })),
        )
        .await
        .with_context(|| format!("DevTools command {command} failed"))
    }

    /// Makes the page see `prefers-color-scheme: <scheme>` (`"dark"` or `"light"`).
    pub async fn prefer_color_scheme(&self, scheme: &str) -> anyhow::Result<()> {
        self.cdp(
            "Emulation.setEmulatedMedia",
            json!({ "features": [{ "name": "prefers-color-scheme", "value": scheme }] }),
        )
        .await?;
        Ok(())
    }

    /// Ends the session and chromedriver now (dropping does the same).
    pub async fn quit(mut self) -> anyhow::Result<()> {
        let path = self.session_path("");
        let result = self.call(reqwest::Method::DELETE, &path, None).await;
        self.session.clear();
        result.map(|_| ())
    }
}

/// Decodes a base64 PNG and writes it at `path` (creating its directory).
fn save_png(base64_png: &str, path: &Path) -> anyhow::Result<usize> {
    let png = base64::engine::general_purpose::STANDARD
        .decode(base64_png)
        .context("the screenshot is not base64")?;
    if !png.starts_with(b"\x89PNG") {
        bail!("the screenshot is not a PNG");
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    std::fs::write(path, &png).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(png.len())
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Ends the session (so chromedriver closes Chromium) with a plain blocking request:
        // no runtime is needed in a destructor.
        if !self.session.is_empty()
            && let Ok(mut stream) = TcpStream::connect_timeout(&self.addr, Duration::from_secs(2))
        {
            let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
            let request = format!(
                "DELETE /session/{} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
                self.session, self.addr
            );
            if stream.write_all(request.as_bytes()).is_ok() {
                let mut sink = Vec::new();
                let _ = stream.read_to_end(&mut sink);
            }
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
