//! The real `lkauth gate` as a child process: the `livekit` preset, `--access-log` on (so that
//! its log has something to leak, and does not), RoomService calls forwarded to the upstream.

use std::fs::File;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::{read, scratch, KEY, SECRET};

/// A running `lkauth gate`.
pub(crate) struct Gate {
    child: Child,
    stdout: PathBuf,
    stderr: PathBuf,
    /// `127.0.0.1:<port>` of its HTTP listener.
    pub(crate) addr: String,
}

impl Gate {
    /// Starts `lkauth gate --bind 127.0.0.1:0 --access-log --livekit-url http://{livekit}` on
    /// the test key, and waits (at most 20 s) for its `listening on` line.
    pub(crate) fn start(livekit: &str) -> Gate {
        let dir = scratch("gate");
        let (stdout, stderr) = (dir.join("stdout"), dir.join("stderr"));
        let mut command = Command::new(env!("CARGO_BIN_EXE_lkauth"));
        command
            .args([
                "gate",
                "--bind",
                "127.0.0.1:0",
                "--access-log",
                "--livekit-url",
            ])
            .arg(format!("http://{livekit}"))
            .env_clear()
            .env("LIVEKIT_KEYS", format!("{KEY}: {SECRET}"))
            .stdin(Stdio::null())
            .stdout(File::create(&stdout).expect("the gate's stdout file"))
            .stderr(File::create(&stderr).expect("the gate's stderr file"));
        let child = command.spawn().expect("lkauth gate starts");
        let mut gate = Gate {
            child,
            stdout,
            stderr,
            addr: String::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let out = gate.stdout();
            if let Some(addr) = out
                .lines()
                .find_map(|line| line.strip_prefix("listening on http://"))
            {
                gate.addr = addr.to_owned();
                return gate;
            }
            if let Some(status) = gate.child.try_wait().expect("wait") {
                panic!("lkauth gate exited ({status}): {}", gate.stderr());
            }
            assert!(
                Instant::now() < deadline,
                "lkauth gate did not listen within 20 s: {}",
                gate.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub(crate) fn stdout(&self) -> String {
        read(&self.stdout)
    }

    pub(crate) fn stderr(&self) -> String {
        read(&self.stderr)
    }

    /// Kills it (SIGKILL, by its PID) and reaps it; its log files stay.
    pub(crate) fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Gate {
    fn drop(&mut self) {
        self.stop();
    }
}
