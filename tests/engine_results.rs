//! The engine's whole output on the benchmarks' county-years, pinned: a SHA-256 of the JSON of
//! `compute_year` for each scheme, detail, `as_of` and monthly standing, recorded from the engine
//! before issue 15's optimisations. Any change to a score, a scale, an explanation or an order
//! changes the digest; a faster engine must leave every one of them as it is.

#[path = "../benches/support/county.rs"]
mod county;

use std::io::Write;

use chrono::{TimeZone, Utc};
use kaohe::scoring::{compute_year, ComputeOptions, Detail, YearData};
use sha2::{Digest, Sha256};

/// Findings per county-year: the benchmarks' 1× case.
const FINDINGS: usize = 200_000;

/// Hashes what is written to it.
struct Hashing(Sha256);

impl Write for Hashing {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.update(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn digest(key: &str, data: &YearData, options: &ComputeOptions) -> String {
    let scheme = county::scheme(key);
    let results = compute_year(&scheme, data, options).expect("the year computes");
    let mut hashing = Hashing(Sha256::new());
    serde_json::to_writer(&mut hashing, &results).expect("results serialise");
    hex::encode(hashing.0.finalize())
}

/// The cases each county-year is computed in: (name, options).
fn cases() -> Vec<(&'static str, ComputeOptions)> {
    let mid_year = Utc.with_ymd_and_hms(2023, 7, 1, 0, 0, 0).single().expect("an instant");
    vec![
        (
            "totals",
            ComputeOptions {
                detail: Detail::Totals,
                ..ComputeOptions::default()
            },
        ),
        ("full", ComputeOptions::default()),
        (
            "totals as of 2023-07-01",
            ComputeOptions {
                detail: Detail::Totals,
                as_of: Some(mid_year),
                ..ComputeOptions::default()
            },
        ),
        (
            "full as of 2023-07-01, June standing",
            ComputeOptions {
                as_of: Some(mid_year),
                monthly: Some(6),
                ..ComputeOptions::default()
            },
        ),
    ]
}

fn check(key: &str, data: &mut YearData, expected: &[(&str, &str)]) {
    let mut mismatches = Vec::new();
    for ((name, options), (expected_name, expected)) in cases().iter().zip(expected) {
        assert_eq!(name, expected_name);
        let actual = digest(key, data, options);
        if actual != *expected {
            mismatches.push(format!("{key} {name}: {actual} (pinned {expected})"));
        }
    }
    // The same data in another order gives the same results.
    data.findings.reverse();
    data.scoresheets.reverse();
    data.ballots.reverse();
    let (name, options) = &cases()[1];
    let reversed = digest(key, data, options);
    if reversed != expected[1].1 {
        mismatches.push(format!(
            "{key} {name}, inputs reversed: {reversed} (pinned {})",
            expected[1].1
        ));
    }
    assert!(mismatches.is_empty(), "results changed:\n{}", mismatches.join("\n"));
}

#[test]
fn county_poverty_results_are_unchanged() {
    check(
        "county-poverty",
        &mut county::county_poverty_year(FINDINGS),
        &[
            (
                "totals",
                "a228f2fddfb08d152a4ed419b16ecd174e6cdb32947ff3566340b31934fbf27d",
            ),
            (
                "full",
                "870a87b09722ee40c0c6039114dabcca09f6402603b18a20b5f427441b71e92b",
            ),
            (
                "totals as of 2023-07-01",
                "d11be260d9924aa415c737eb577e44ad0272547c3505b27a2d3278d931e3397c",
            ),
            (
                "full as of 2023-07-01, June standing",
                "5310664ba95951c8d1ff281c53de7239a74f6e2884f9077c3c614ba4e8e932c0",
            ),
        ],
    );
}

#[test]
fn tongshi_results_are_unchanged() {
    check(
        "tongshi-2023-village",
        &mut county::tongshi_year(FINDINGS),
        &[
            (
                "totals",
                "d6503adfe8f2620d200cc3a4e1454893ea1a33342f17a1a34b3e83bda533060a",
            ),
            (
                "full",
                "105e086ac74a0fc9c7e88b4209f7617e020b142da771476dfd8d236362cabf5c",
            ),
            (
                "totals as of 2023-07-01",
                "dae81fd096720868b346120909a382b8e8784ba4ec20a701a491fb1a005e2616",
            ),
            (
                "full as of 2023-07-01, June standing",
                "b4b55f9d5fe68622adcbd9e9f8c2fcbe5edd0f24094f7711ac0ae75fdc0e291c",
            ),
        ],
    );
}
