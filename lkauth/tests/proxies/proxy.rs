//! nginx and Caddy as our own processes on 127.0.0.1, started from the configuration files
//! users copy (`lkauth/proxies/`), with only the addresses and the log paths changed, and
//! stopped by their PID. nginx runs as one process (`master_process off`, `daemon off`) with
//! its pid, logs and temporary files under a scratch directory; Caddy with `admin off`,
//! `auto_https off`, an `http://` site and its storage in the scratch directory.

use std::fs::File;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::{free_port, read, scratch};

/// nginx's site, as the README shows it.
const NGINX_SITE: &str = include_str!("../../proxies/nginx/livekit.conf");
/// Caddy's configuration, as the README shows it.
const CADDYFILE: &str = include_str!("../../proxies/caddy/Caddyfile");

/// How to get the proxies, in every panic about a missing one.
const INSTALL: &str = "bash scripts/install_tools.sh nginx caddy (or apt-get install -y nginx \
                       caddy); ./scripts/test and .ci/run install them";

/// Which proxy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// nginx `auth_request`.
    Nginx,
    /// Caddy `forward_auth`.
    Caddy,
}

/// A running proxy.
pub(crate) struct Proxy {
    pub(crate) kind: Kind,
    child: Child,
    dir: PathBuf,
    /// `http://127.0.0.1:<port>`.
    pub(crate) base: String,
    /// `127.0.0.1:<port>`.
    pub(crate) addr: String,
}

impl Proxy {
    /// Starts `kind` in front of `upstream`, asking the gate at `gate` (both `127.0.0.1:PORT`),
    /// and waits (at most 15 s) until it accepts connections. A port another process took
    /// meanwhile is retried on another one.
    pub(crate) fn start(kind: Kind, gate: &str, upstream: &str) -> Proxy {
        for _ in 0..5 {
            let dir = scratch(match kind {
                Kind::Nginx => "nginx",
                Kind::Caddy => "caddy",
            });
            std::fs::create_dir_all(dir.join("logs")).expect("the logs directory");
            let port = free_port();
            let child = match kind {
                Kind::Nginx => spawn_nginx(&dir, port, gate, upstream),
                Kind::Caddy => spawn_caddy(&dir, port, gate, upstream),
            };
            let addr = format!("127.0.0.1:{port}");
            let mut proxy = Proxy {
                kind,
                child,
                dir,
                base: format!("http://{addr}"),
                addr,
            };
            if proxy.wait_until_ready() {
                return proxy;
            }
            // Dropping it kills it; then another port.
        }
        panic!("{kind:?} found no free port in five tries");
    }

    /// Whether it serves; false when its port was taken. Panics when it fails otherwise.
    fn wait_until_ready(&mut self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let logs = self.startup_log();
            let taken =
                logs.contains("Address already in use") || logs.contains("address already in use");
            if taken {
                return false;
            }
            if let Some(status) = self.child.try_wait().expect("wait") {
                panic!("{:?} exited ({status}) at its start:\n{logs}", self.kind);
            }
            let started = match self.kind {
                Kind::Nginx => true,
                Kind::Caddy => logs.contains("server running"),
            };
            if started && TcpStream::connect(&self.addr).is_ok() {
                return true;
            }
            assert!(
                Instant::now() < deadline,
                "{:?} did not listen on {} within 15 s:\n{logs}",
                self.kind,
                self.addr
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// What the proxy wrote while starting: its stderr, and nginx's error logs.
    fn startup_log(&self) -> String {
        self.logs()
            .into_iter()
            .filter(|(name, _)| !name.ends_with("access.log"))
            .map(|(_, text)| text)
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The site's access log (`/var/log/.../livekit.access.log` in the template).
    pub(crate) fn access_log(&self) -> String {
        read(&self.dir.join("logs/livekit.access.log"))
    }

    /// Everything the proxy wrote: each log file, its stdout and its stderr, by name.
    pub(crate) fn logs(&self) -> Vec<(String, String)> {
        let mut logs = vec![
            (String::from("stdout"), read(&self.dir.join("stdout"))),
            (String::from("stderr"), read(&self.dir.join("stderr"))),
        ];
        if let Ok(entries) = std::fs::read_dir(self.dir.join("logs")) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                logs.push((name, read(&entry.path())));
            }
        }
        logs
    }
}

impl Drop for Proxy {
    /// Kills it (SIGKILL, by its PID) and reaps it; its directory stays for the logs.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `text` with every `from` replaced by `to`; fails if the template no longer has `from`.
fn replace(text: &str, from: &str, to: &str, file: &str) -> String {
    assert!(
        text.contains(from),
        "{file} no longer contains `{from}`: update lkauth/tests/proxies/proxy.rs"
    );
    text.replace(from, to)
}

/// The program `name` from PATH or the usual Debian directories (sbin is not in every PATH).
fn tool(name: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| panic!("{name} is not installed: {INSTALL}"))
}

/// Output files for a child.
fn outputs(dir: &Path) -> (File, File) {
    (
        File::create(dir.join("stdout")).expect("stdout file"),
        File::create(dir.join("stderr")).expect("stderr file"),
    )
}

fn spawn_nginx(dir: &Path, port: u16, gate: &str, upstream: &str) -> Child {
    let file = "lkauth/proxies/nginx/livekit.conf";
    let logs = format!("{}/logs/", dir.display());
    let site = replace(
        NGINX_SITE,
        "server 127.0.0.1:7888;",
        &format!("server {gate};"),
        file,
    );
    let site = replace(
        &site,
        "server 127.0.0.1:7880;",
        &format!("server {upstream};"),
        file,
    );
    let site = replace(
        &site,
        "listen 80;",
        &format!("listen 127.0.0.1:{port};"),
        file,
    );
    let site = replace(&site, "/var/log/nginx/", &logs, file);
    std::fs::write(dir.join("livekit.conf"), site).expect("write the site");
    let d = dir.display();
    let main = format!(
        "daemon off;\n\
         master_process off;\n\
         pid {d}/nginx.pid;\n\
         error_log {d}/logs/main.error.log info;\n\
         events {{ worker_connections 1024; }}\n\
         http {{\n\
         \x20   access_log {d}/logs/main.access.log;\n\
         \x20   client_body_temp_path {d}/tmp-body;\n\
         \x20   proxy_temp_path {d}/tmp-proxy;\n\
         \x20   fastcgi_temp_path {d}/tmp-fastcgi;\n\
         \x20   uwsgi_temp_path {d}/tmp-uwsgi;\n\
         \x20   scgi_temp_path {d}/tmp-scgi;\n\
         \x20   include {d}/livekit.conf;\n\
         }}\n"
    );
    std::fs::write(dir.join("nginx.conf"), main).expect("write nginx.conf");
    let (stdout, stderr) = outputs(dir);
    Command::new(tool("nginx"))
        .arg("-p")
        .arg(format!("{d}/"))
        .arg("-c")
        .arg(dir.join("nginx.conf"))
        .arg("-e")
        .arg(dir.join("logs/startup.error.log"))
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .unwrap_or_else(|err| panic!("cannot start nginx ({err}): {INSTALL}"))
}

fn spawn_caddy(dir: &Path, port: u16, gate: &str, upstream: &str) -> Child {
    let file = "lkauth/proxies/caddy/Caddyfile";
    let logs = format!("{}/logs/", dir.display());
    // The global options block opens the file: no admin endpoint (tests run side by side),
    // no certificates.
    assert!(
        CADDYFILE.contains("\n{\n"),
        "{file} opens no global options block"
    );
    let config = CADDYFILE.replacen("\n{\n", "\n{\n\tadmin off\n\tauto_https off\n", 1);
    let config = replace(
        &config,
        "livekit.example.com {",
        &format!("http://127.0.0.1:{port} {{"),
        file,
    );
    let config = replace(&config, "127.0.0.1:7888", gate, file);
    let config = replace(&config, "127.0.0.1:7880", upstream, file);
    let config = replace(&config, "/var/log/caddy/", &logs, file);
    let path = dir.join("Caddyfile");
    std::fs::write(&path, config).expect("write the Caddyfile");
    let (stdout, stderr) = outputs(dir);
    Command::new(tool("caddy"))
        .arg("run")
        .arg("--config")
        .arg(&path)
        .args(["--adapter", "caddyfile"])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("XDG_DATA_HOME", dir.join("data"))
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .unwrap_or_else(|err| panic!("cannot start caddy ({err}): {INSTALL}"))
}
