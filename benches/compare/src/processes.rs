//! The processes the Redis measurements run (`src/bin/propagation.rs`, `src/bin/outage.rs`):
//! a `redis-server` on a free 127.0.0.1 port, and replicas of `lkauth serve`
//! (`lkauth serve --redis URL`). Each is stopped by its PID when dropped, so that a
//! measurement that fails half-way leaves nothing running.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A free TCP port on 127.0.0.1 (the kernel's pick; free when this returns).
pub fn free_port() -> io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A port for a server that must come back on it after a restart: free now, and below
/// Linux's ephemeral range (32768-60999), so that no outgoing connection takes it while the
/// server is down (clients reconnecting to it could otherwise connect to themselves, TCP's
/// simultaneous open, and hold it).
pub fn restartable_port() -> io::Result<u16> {
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos())
        ^ std::process::id().rotate_left(16);
    for attempt in 0..64u32 {
        let mixed = seed
            .wrapping_add(attempt.wrapping_mul(2_654_435_761))
            .wrapping_mul(2_246_822_519);
        let port = 20_000 + (mixed >> 8) % 12_000;
        let port = u16::try_from(port).unwrap_or(20_000);
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return Ok(port);
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AddrInUse,
        "no free port in 20000-31999 on 127.0.0.1",
    ))
}

/// Whether Redis keeps its data across a restart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Persistence {
    /// `--save "" --appendonly no`: a restart starts empty.
    None,
    /// `--appendonly yes --appendfsync everysec`, the data directory kept across restarts: every
    /// write Redis acknowledged is in the append-only file before the reply is sent, so a
    /// killed process loses nothing (a machine that loses power loses up to 1 s; `always`
    /// closes that too).
    AppendOnly,
}

/// A `redis-server` on 127.0.0.1, killed (SIGKILL, by PID) when dropped.
pub struct RedisServer {
    child: Option<Child>,
    port: u16,
    dir: PathBuf,
    persistence: Persistence,
}

impl RedisServer {
    /// Starts one on a free port ([`restartable_port`]), in a fresh temporary directory, and
    /// waits (at most 10 s) until it answers `PING`. A port taken between the pick and the
    /// start (the machine is shared) means another pick, up to five.
    pub fn start(persistence: Persistence) -> io::Result<Self> {
        let mut last = None;
        for _ in 0..5 {
            let port = restartable_port()?;
            let dir = std::env::temp_dir()
                .join(format!("tlka-bench-redis-{}-{port}", std::process::id()));
            std::fs::create_dir_all(&dir)?;
            let mut server = RedisServer {
                child: None,
                port,
                dir,
                persistence,
            };
            match server.spawn() {
                Ok(()) => return Ok(server),
                Err(err) if err.kind() == io::ErrorKind::AddrInUse => last = Some(err),
                Err(err) => return Err(err),
            }
        }
        Err(last.unwrap_or_else(|| io::Error::other("redis-server did not start")))
    }

    fn spawn(&mut self) -> io::Result<()> {
        let mut command = Command::new("redis-server");
        command
            .args(["--bind", "127.0.0.1", "--port", &self.port.to_string()])
            .arg("--dir")
            .arg(&self.dir)
            .args(["--save", ""])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        match self.persistence {
            Persistence::None => command.args(["--appendonly", "no"]),
            Persistence::AppendOnly => {
                command.args(["--appendonly", "yes", "--appendfsync", "everysec"])
            }
        };
        let child = command.spawn().map_err(|err| {
            io::Error::new(
                err.kind(),
                format!(
                    "cannot start redis-server ({err}): is it installed? \
                     `sudo apt-get update && sudo apt-get install -y redis-server`"
                ),
            )
        })?;
        self.child = Some(child);
        self.wait_until_ready(Duration::from_secs(10))
    }

    /// Polls `PING` until it answers `+PONG` (not `-LOADING`, while an append-only file is
    /// read back) or `within` passes. A server that exited (its port was taken: `AddrInUse`)
    /// is reaped and reported at once.
    fn wait_until_ready(&mut self, within: Duration) -> io::Result<()> {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    self.child = None;
                    return Err(io::Error::new(
                        io::ErrorKind::AddrInUse,
                        format!(
                            "redis-server exited at start ({status}): 127.0.0.1:{} taken?",
                            self.port
                        ),
                    ));
                }
            }
            if self
                .command(&["PING"])
                .is_ok_and(|answer| answer.starts_with("+PONG"))
                && self.answers_as_ours()
            {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!(
                "redis-server did not answer PING on 127.0.0.1:{} within {within:?}",
                self.port
            ),
        ))
    }

    /// Whether the server on the port is this one (`INFO server`'s `process_id`), not another
    /// that had the port first.
    fn answers_as_ours(&self) -> bool {
        let Some(pid) = self.pid() else { return false };
        self.command(&["INFO", "server"]).is_ok_and(|info| {
            info.lines()
                .any(|line| line.trim() == format!("process_id:{pid}"))
        })
    }

    /// `redis://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// The running server's PID.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Kills the server (SIGKILL, by PID), as a crash would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port and directory (with [`Persistence::AppendOnly`], its
    /// data comes back) and waits until it answers `PING`.
    pub fn restart(&mut self) -> io::Result<()> {
        self.kill();
        self.spawn()
    }

    /// Sends one command (RESP over TCP) and returns the raw answer.
    pub fn command(&self, args: &[&str]) -> io::Result<String> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port))?;
        stream.set_read_timeout(Some(Duration::from_secs(5)))?;
        let mut request = format!("*{}\r\n", args.len());
        for arg in args {
            request.push_str(&format!("${}\r\n{arg}\r\n", arg.len()));
        }
        stream.write_all(request.as_bytes())?;
        let mut answer = vec![0u8; 64 * 1024];
        let n = stream.read(&mut answer)?;
        Ok(String::from_utf8_lossy(&answer[..n]).into_owned())
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// One `lkauth serve --bind 127.0.0.1:0 --redis URL` process, killed (by PID) when dropped.
pub struct DemoReplica {
    child: Child,
    /// `http://127.0.0.1:<port>`, as the server printed it.
    pub url: String,
}

impl DemoReplica {
    /// Starts `binary serve` (the lkauth binary) with `LIVEKIT_KEYS="<key>: <secret>"` as one
    /// replica on Redis at `redis_url`, and waits (at most 20 s) for its `listening on` line.
    pub fn start(binary: &Path, key: &str, secret: &str, redis_url: &str) -> io::Result<Self> {
        let mut child = Command::new(binary)
            .args(["serve", "--bind", "127.0.0.1:0", "--redis", redis_url])
            .env("LIVEKIT_KEYS", format!("{key}: {secret}"))
            .env_remove("REDIS_URL")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|err| {
                io::Error::new(
                    err.kind(),
                    format!(
                        "cannot start lkauth {} ({err}): build it with \
                         `cargo build --release -p lkauth`",
                        binary.display()
                    ),
                )
            })?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| io::Error::other("no stdout"))?;
        let (found, listening) = mpsc::channel();
        // Reads the address, then keeps draining stdout so that the server never blocks on it.
        std::thread::spawn(move || {
            let mut found = Some(found);
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(url) = line.strip_prefix("listening on ") {
                    if let Some(found) = found.take() {
                        let _ = found.send(url.to_owned());
                    }
                }
            }
        });
        match listening.recv_timeout(Duration::from_secs(20)) {
            Ok(url) => Ok(DemoReplica { child, url }),
            Err(_) => {
                let _ = child.kill();
                let status = child.wait().map(|s| s.to_string()).unwrap_or_default();
                Err(io::Error::other(format!(
                    "lkauth serve did not print `listening on` within 20 s ({status})"
                )))
            }
        }
    }

    /// The process's PID.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for DemoReplica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `q`-quantile (0..=1) of `sorted` (ascending), nearest rank; 0 for none.
pub fn quantile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// Milliseconds with three decimals.
pub fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1000.0)
}
