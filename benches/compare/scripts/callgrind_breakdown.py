#!/usr/bin/env python3
"""Sums a profile's exclusive cost per category of function.

Usage: callgrind_breakdown.py CALLGRIND_OUT VERIFICATIONS   (instructions per verification)
       callgrind_breakdown.py --perf PERF_DATA              (share of native cpu-clock samples)
Categories are by function name (after inlining: a function's inlined callees count as it).
"""
import re
import subprocess
import sys

CATEGORIES = [
    ("split (find the dots)", re.compile(r"verify::token::split|memchr")),
    ("sha256 compress", re.compile(r"compress256|sha256::x86|digest_blocks")),
    ("hmac/digest rest", re.compile(r"sha2::|hmac::|digest::|subtle::|verify_slice|block_buffer")),
    ("base64", re.compile(r"base64::|base64_simd::|vsimd::")),
    ("malloc/free", re.compile(r"malloc|_int_free|\bfree\b|realloc|__rdl_|__rust_alloc|__rust_dealloc|cfree|tcache")),
    ("memcpy/memset", re.compile(r"memcpy|memmove|memset|memcmp|bcmp")),
    ("drop (Claims)", re.compile(r"drop_in_place|dying_next|IntoIter<K,V,A>::drop|Arc<T,A>>::drop_slow")),
    ("key lookup (hash)", re.compile(r"hash::sip|Hasher|BuildHasher|hashbrown|HashMap")),
    ("utf-8 validation", re.compile(r"from_utf8|str::validations|run_utf8_validation")),
    ("json parse + build", re.compile(r"serde|claims::|btree|BTreeMap|Deserialize|parse_|RawVec|alloc::vec|String")),
    ("clock", re.compile(r"clock_gettime|SystemTime|__vdso|Timespec")),
]


def categorize(func: str) -> str:
    return next((name for name, rx in CATEGORIES if rx.search(func)), "other (header, times, ...)")


def perf_main(path: str) -> None:
    out = subprocess.run(
        ["perf", "report", "-i", path, "--no-children", "--sort", "symbol", "--stdio"],
        capture_output=True, text=True, check=True,
    ).stdout
    totals: dict[str, float] = {}
    for line in out.splitlines():
        m = re.match(r"^\s+([\d.]+)%\s+\[[.k]\]\s+(.*?)\s*$", line)
        if m:
            cat = categorize(m.group(2))
            totals[cat] = totals.get(cat, 0.0) + float(m.group(1))
    for cat, share in sorted(totals.items(), key=lambda kv: -kv[1]):
        print(f"  {cat:36s} {share:5.1f} % of samples")


def main() -> None:
    if sys.argv[1] == "--perf":
        perf_main(sys.argv[2])
        return
    path, verifications = sys.argv[1], int(sys.argv[2])
    out = subprocess.run(
        ["callgrind_annotate", "--auto=no", "--inclusive=no", "--threshold=100", path],
        capture_output=True, text=True, check=True,
    ).stdout
    line_re = re.compile(r"^\s*([\d,]+) \(\s*[\d.]+%\)\s+(.*)$")
    totals: dict[str, int] = {}
    grand = 0
    for line in out.splitlines():
        m = line_re.match(line)
        if not m:
            continue
        count = int(m.group(1).replace(",", ""))
        rest = m.group(2)
        if rest.startswith("PROGRAM TOTALS"):
            grand = count
            continue
        rest = re.sub(r" \[[^\]]*\]$", "", rest)
        func = rest.split(":", 1)[1] if ":" in rest else rest
        cat = categorize(func)
        totals[cat] = totals.get(cat, 0) + count
    for cat, count in sorted(totals.items(), key=lambda kv: -kv[1]):
        print(f"  {cat:36s} {count / verifications:9.0f} instr/verify  {100 * count / grand:5.1f} %")
    print(f"  {'total':36s} {grand / verifications:9.0f} instr/verify")


if __name__ == "__main__":
    main()
