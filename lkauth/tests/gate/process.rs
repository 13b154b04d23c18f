//! The real `lkauth` binary as a child process: started with an environment of the test's
//! choosing, its output in files, waited for with deadlines, stopped by its PID.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// A running `lkauth`.
pub(crate) struct Lkauth {
    child: Child,
    stdout: PathBuf,
    stderr: PathBuf,
    /// `http://127.0.0.1:<port>` once it listens.
    pub(crate) base: String,
    /// `http://127.0.0.1:<port>` of the gRPC listener, when started with one.
    pub(crate) grpc: Option<String>,
}

/// A scratch directory under the target directory, removed by nobody (cargo clean does).
pub(crate) fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "gate-{name}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    ));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// `lkauth args...` with only `env` (and `PATH`) in its environment.
pub(crate) fn command(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_lkauth"));
    command.args(args).env_clear();
    if let Ok(path) = std::env::var("PATH") {
        command.env("PATH", path);
    }
    for (name, value) in env {
        command.env(name, value);
    }
    command
}

/// Runs `lkauth args...` to its end (at most 20 s): its status, stdout and stderr.
pub(crate) fn run(args: &[&str], env: &[(&str, &str)]) -> (ExitStatus, String, String) {
    let dir = scratch("run");
    let (out, err) = (dir.join("stdout"), dir.join("stderr"));
    let mut child = command(args, env)
        .stdin(Stdio::null())
        .stdout(File::create(&out).expect("stdout file"))
        .stderr(File::create(&err).expect("stderr file"))
        .spawn()
        .expect("lkauth starts");
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("lkauth {args:?} did not end within 20 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let read = |path: &Path| std::fs::read_to_string(path).unwrap_or_default();
    (status, read(&out), read(&err))
}

impl Lkauth {
    /// Starts `lkauth args...` and waits (at most 20 s) for its `listening on` line.
    pub(crate) fn start(args: &[&str], env: &[(&str, &str)]) -> Lkauth {
        let dir = scratch("serve");
        let (stdout, stderr) = (dir.join("stdout"), dir.join("stderr"));
        let child = command(args, env)
            .stdin(Stdio::null())
            .stdout(File::create(&stdout).expect("stdout file"))
            .stderr(File::create(&stderr).expect("stderr file"))
            .spawn()
            .expect("lkauth starts");
        let mut lkauth = Lkauth {
            child,
            stdout,
            stderr,
            base: String::new(),
            grpc: None,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let out = lkauth.stdout();
            if let Some(base) = line_after(&out, "listening on ") {
                lkauth.base = base;
                lkauth.grpc =
                    line_after(&out, "grpc listening on ").map(|addr| format!("http://{addr}"));
                return lkauth;
            }
            if let Some(status) = lkauth.child.try_wait().expect("wait") {
                panic!("lkauth {args:?} exited ({status}): {}", lkauth.stderr());
            }
            assert!(
                Instant::now() < deadline,
                "lkauth {args:?} did not listen within 20 s: {}",
                lkauth.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub(crate) fn stdout(&self) -> String {
        std::fs::read_to_string(&self.stdout).unwrap_or_default()
    }

    pub(crate) fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }
}

impl Drop for Lkauth {
    /// Stops it by its PID (`Child::kill`) and reaps it.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn line_after(text: &str, prefix: &str) -> Option<String> {
    text.lines()
        .find_map(|line| line.strip_prefix(prefix))
        .map(str::to_owned)
}
