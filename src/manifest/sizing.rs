//! `service.sizing` of module.yaml: how the module's software grows with the
//! distribution's scale (distribution.yaml `scale`, [`Scale`]). A stateless
//! service scales out (replicas), a stateful one (a directory, a database)
//! scales up (resources); docs/formats.md, "Sizing". Parsed and checked here,
//! computed by [`Sizing::at`] for one scale.

use super::diagnostic::Code;
use super::fields::{Checker, Fields};
use super::yaml::{Node, NodeKind};

/// What a module's sizing counts (`sizing.per`), as the distribution's
/// `scale` states or derives it.
pub const MEASURES: &[&str] = &["comptes", "eleves", "etablissements"];

/// How far a stateful service's resources grow when `max_factor` is not
/// given: past 4 times its base, a directory or a database is better split
/// by the operator than sized by a ratio.
pub const DEFAULT_MAX_FACTOR: u64 = 4;

/// The distribution's scale, every measure known (given or derived).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scale {
    pub comptes: u64,
    pub eleves: u64,
    pub etablissements: u64,
}

impl Scale {
    pub fn measure(&self, per: &str) -> u64 {
        match per {
            "eleves" => self.eleves,
            "etablissements" => self.etablissements,
            _ => self.comptes,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Sizing {
    /// One of [`MEASURES`].
    pub per: &'static str,
    /// How many of `per` one replica (stateless) or one step of resources
    /// (stateful) serves.
    pub unit: u64,
    pub stateless: bool,
    pub min_replicas: u64,
    pub max_replicas: u64,
    /// Stateful: at most this many times the base resources.
    pub max_factor: u64,
    /// Millicores.
    pub cpu: Resource,
    /// Bytes.
    pub memory: Resource,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resource {
    pub request: u64,
    pub limit: Option<u64>,
}

/// A sizing computed for one scale: what the deployment templates write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sized {
    pub replicas: u64,
    /// Stateless with room to grow: the autoscaler's bounds (min = `replicas`).
    pub autoscale_max: Option<u64>,
    pub stateless: bool,
    pub cpu: Resource,
    pub memory: Resource,
}

impl Sizing {
    /// Units of the scale: `ceil(measure / unit)`, at least 1. Stateless:
    /// that many replicas within `replicas`; stateful: one replica whose
    /// resources are that many times the base, within `max_factor`.
    pub fn at(&self, scale: &Scale) -> Sized {
        let units = scale.measure(self.per).div_ceil(self.unit).max(1);
        if self.stateless {
            let replicas = units.clamp(self.min_replicas, self.max_replicas);
            return Sized {
                replicas,
                autoscale_max: (self.max_replicas > replicas).then_some(self.max_replicas),
                stateless: true,
                cpu: self.cpu,
                memory: self.memory,
            };
        }
        let factor = units.min(self.max_factor);
        let times = |r: Resource| Resource {
            request: r.request.saturating_mul(factor),
            limit: r.limit.map(|l| l.saturating_mul(factor)),
        };
        Sized {
            replicas: 1,
            autoscale_max: None,
            stateless: false,
            cpu: times(self.cpu),
            memory: times(self.memory),
        }
    }
}

const SIZING_KEYS: &[&str] = &[
    "per",
    "unit",
    "stateless",
    "replicas",
    "max_factor",
    "cpu",
    "memory",
];

/// Reads `service.sizing`; every problem reported at its key.
pub fn parse(checker: &mut Checker, node: &Node) -> Option<Sizing> {
    let fields = checker.map(node, "service.sizing", node.span, SIZING_KEYS)?;
    let per = fields
        .required(checker, "per", "comptes")
        .and_then(|n| checker.one_of(n, "service.sizing.per", MEASURES));
    let unit = fields
        .required(checker, "unit", "50000")
        .and_then(|n| positive(checker, n, "service.sizing.unit"));
    let stateless = fields
        .get("stateless")
        .and_then(|n| checker.bool(n, "service.sizing.stateless"))
        .unwrap_or(false);
    let (min_replicas, max_replicas) = replicas(checker, &fields, stateless)?;
    let max_factor = match fields.get("max_factor") {
        Some(n) => positive(checker, n, "service.sizing.max_factor")?,
        None => DEFAULT_MAX_FACTOR,
    };
    let cpu = resource(checker, &fields, "cpu", Quantity::Cpu);
    let memory = resource(checker, &fields, "memory", Quantity::Memory);
    Some(Sizing {
        per: per?,
        unit: unit?,
        stateless,
        min_replicas,
        max_replicas,
        max_factor,
        cpu: cpu?,
        memory: memory?,
    })
}

/// A count of at least 1: replicas, units, establishments.
pub fn positive(checker: &mut Checker, node: &Node, key: &str) -> Option<u64> {
    let n = checker.int(node, key)?;
    match u64::try_from(n) {
        Ok(n) if n > 0 => Some(n),
        _ => {
            checker.report(
                Code::InvalidValue,
                node.span,
                key,
                format!("`{key}` is {n}: a count must be at least 1"),
                format!("write a positive whole number for `{key}`"),
            );
            None
        }
    }
}

/// `replicas: { min, max }`: min ≤ max; a stateful service runs one.
fn replicas(checker: &mut Checker, fields: &Fields, stateless: bool) -> Option<(u64, u64)> {
    let Some(node) = fields.get("replicas") else {
        return Some((1, 1));
    };
    let key = "service.sizing.replicas";
    let r = checker.map(node, key, node.span, &["min", "max"])?;
    let min = match r.get("min") {
        Some(n) => positive(checker, n, &r.key("min"))?,
        None => 1,
    };
    let max = match r.get("max") {
        Some(n) => positive(checker, n, &r.key("max"))?,
        None => min,
    };
    if min > max {
        checker.report(
            Code::InvalidValue,
            node.span,
            key,
            format!("`{key}`: min {min} is more than max {max}"),
            "make `min` at most `max` (min: the replicas at the smallest scale, max: the most the software tolerates)",
        );
        return None;
    }
    if !stateless && max > 1 {
        checker.report(
            Code::InvalidValue,
            node.span,
            key,
            format!("`{key}` asks for up to {max} replicas of a service that is not `stateless`"),
            "a stateful service (a directory, a database) runs one replica and grows its resources: remove `replicas`, or set `stateless: true` if any replica can answer any request",
        );
        return None;
    }
    Some((min, max))
}

#[derive(Clone, Copy)]
enum Quantity {
    Cpu,
    Memory,
}

/// `cpu:` / `memory:` `{ request, limit }`, Kubernetes quantities; the
/// request is required and at most the limit (Kubernetes refuses more).
fn resource(
    checker: &mut Checker,
    fields: &Fields,
    name: &str,
    kind: Quantity,
) -> Option<Resource> {
    let example = match kind {
        Quantity::Cpu => "{ request: 250m, limit: \"1\" }",
        Quantity::Memory => "{ request: 512Mi, limit: 1Gi }",
    };
    let node = fields.required(checker, name, example)?;
    let key = format!("service.sizing.{name}");
    let r = checker.map(node, &key, node.span, &["request", "limit"])?;
    let request = r
        .required(checker, "request", "250m")
        .and_then(|n| quantity(checker, n, &r.key("request"), kind));
    let limit = match r.get("limit") {
        Some(n) => Some(quantity(checker, n, &r.key("limit"), kind)?),
        None => None,
    };
    let request = request?;
    if let Some(limit) = limit
        && request > limit
    {
        checker.report(
            Code::InvalidValue,
            node.span,
            &key,
            format!("`{key}`: the request is more than the limit"),
            "make `request` at most `limit`: Kubernetes refuses a container asking more than its limit",
        );
        return None;
    }
    Some(Resource { request, limit })
}

fn quantity(checker: &mut Checker, node: &Node, key: &str, kind: Quantity) -> Option<u64> {
    let text = match &node.kind {
        NodeKind::Int(i) => i.to_string(),
        NodeKind::Float(f) => f.to_string(),
        NodeKind::Str(s) => s.clone(),
        _ => {
            checker.wrong_type(node, key, "a Kubernetes quantity");
            return None;
        }
    };
    let parsed = match kind {
        Quantity::Cpu => parse_cpu(&text),
        Quantity::Memory => parse_memory(&text),
    };
    match parsed {
        Ok(v) => Some(v),
        Err(help) => {
            checker.report(
                Code::InvalidValue,
                node.span,
                key,
                format!("`{text}` is not a Kubernetes quantity for `{key}`"),
                help,
            );
            None
        }
    }
}

/// A decimal number (`1`, `0.5`) split into its value scaled by 10^`places`.
fn decimal(number: &str, places: u32) -> Option<u64> {
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() && fraction.is_empty()
        || !digits(whole)
        || !digits(fraction)
        || fraction.len() > places as usize
        || whole.len() > 12
    {
        return None;
    }
    let scale = 10u64.pow(places);
    let whole: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let mut frac: u64 = if fraction.is_empty() {
        0
    } else {
        fraction.parse().ok()?
    };
    frac *= 10u64.pow(places - fraction.len() as u32);
    whole.checked_mul(scale)?.checked_add(frac)
}

/// CPU in millicores: `250m`, `1`, `0.5`.
pub fn parse_cpu(text: &str) -> Result<u64, String> {
    let help = || {
        format!(
            "write cores (`1`, `0.5`) or millicores (`250m`), more than zero; `{text}` is neither"
        )
    };
    let millis = match text.strip_suffix('m') {
        Some(n) => decimal(n, 0),
        None => decimal(text, 3),
    };
    millis.filter(|m| *m > 0).ok_or_else(help)
}

const MEMORY_SUFFIXES: &[(&str, u64)] = &[
    ("Ki", 1 << 10),
    ("Mi", 1 << 20),
    ("Gi", 1 << 30),
    ("Ti", 1 << 40),
    ("k", 1_000),
    ("M", 1_000_000),
    ("G", 1_000_000_000),
    ("T", 1_000_000_000_000),
];

/// Memory in bytes: `512Mi`, `1Gi`, `500M`, `1.5Gi`, `1048576`.
pub fn parse_memory(text: &str) -> Result<u64, String> {
    if let Some(n) = text.strip_suffix('m')
        && decimal(n, 0).is_some()
    {
        return Err(format!(
            "`{text}` is {n} thousandths of a byte in Kubernetes: write `{n}Mi` for mebibytes"
        ));
    }
    if let Some(n) = text.strip_suffix("iB").or(text.strip_suffix('B'))
        && let Some(unit) = n.chars().last().filter(|c| "KMGT".contains(*c))
    {
        let number = n.trim_end_matches(unit);
        return Err(format!(
            "Kubernetes has no `B`: write `{number}{unit}i` (binary) or `{number}{}`",
            if unit == 'K' { 'k' } else { unit }
        ));
    }
    let (number, multiplier) = MEMORY_SUFFIXES
        .iter()
        .find_map(|(s, m)| Some((text.strip_suffix(s)?, *m)))
        .unwrap_or((text, 1));
    // Exact to a thousandth of the unit, then rounded up to a byte.
    decimal(number, 3)
        .and_then(|thousandths| thousandths.checked_mul(multiplier))
        .map(|b| b.div_ceil(1000))
        .filter(|b| *b > 0)
        .ok_or_else(|| {
            format!("write a size with a unit, more than zero: `512Mi`, `1Gi`, `500M`; `{text}` is not one")
        })
}

/// Millicores as Kubernetes writes them: whole cores plain, else `m`.
pub fn cpu_quantity(millis: u64) -> String {
    if millis.is_multiple_of(1000) {
        (millis / 1000).to_string()
    } else {
        format!("{millis}m")
    }
}

/// Millicores as Compose's `cpus` (a decimal number of cores).
pub fn cpu_cores(millis: u64) -> String {
    let text = format!("{}.{:03}", millis / 1000, millis % 1000);
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// Bytes in the largest binary unit that divides them: Kubernetes (`Gi`,
/// `Mi`, `Ki`) or Compose (`g`, `m`, `k`, `b`: Docker reads them as binary).
pub fn memory_quantity(bytes: u64, compose: bool) -> String {
    let units: [(u64, &str, &str); 3] = [
        (1 << 30, "Gi", "g"),
        (1 << 20, "Mi", "m"),
        (1 << 10, "Ki", "k"),
    ];
    for (size, k8s, docker) in units {
        if bytes.is_multiple_of(size) {
            return format!("{}{}", bytes / size, if compose { docker } else { k8s });
        }
    }
    if compose {
        format!("{bytes}b")
    } else {
        bytes.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_parse_as_kubernetes_reads_them() {
        assert_eq!(parse_cpu("250m"), Ok(250));
        assert_eq!(parse_cpu("1"), Ok(1000));
        assert_eq!(parse_cpu("0.5"), Ok(500));
        assert_eq!(parse_cpu("1.25"), Ok(1250));
        for bad in ["", "m", "1.5m", "-1", "0", "1k", "one", "1e3", "0.0001"] {
            assert!(parse_cpu(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_memory("512Mi"), Ok(512 << 20));
        assert_eq!(parse_memory("1.5Gi"), Ok(3 << 29));
        assert_eq!(parse_memory("500M"), Ok(500_000_000));
        assert_eq!(parse_memory("1048576"), Ok(1 << 20));
        assert!(parse_memory("512m").unwrap_err().contains("`512Mi`"));
        assert!(parse_memory("1GB").unwrap_err().contains("`1Gi`"));
        for bad in ["", "Mi", "1MB", "1 Gi", "-1Gi", "0Gi", "1Pi", "lots"] {
            assert!(parse_memory(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn quantities_are_written_back_in_their_largest_unit() {
        assert_eq!(cpu_quantity(250), "250m");
        assert_eq!(cpu_quantity(2000), "2");
        assert_eq!(cpu_cores(250), "0.25");
        assert_eq!(cpu_cores(2000), "2");
        assert_eq!(cpu_cores(1500), "1.5");
        assert_eq!(memory_quantity(3 << 29, false), "1536Mi");
        assert_eq!(memory_quantity(2 << 30, false), "2Gi");
        assert_eq!(memory_quantity(2 << 30, true), "2g");
        assert_eq!(memory_quantity(500_000_000, true), "500000000b");
    }

    fn sizing(stateless: bool) -> Sizing {
        Sizing {
            per: "comptes",
            unit: 50_000,
            stateless,
            min_replicas: if stateless { 2 } else { 1 },
            max_replicas: if stateless { 20 } else { 1 },
            max_factor: 4,
            cpu: Resource {
                request: 250,
                limit: Some(1000),
            },
            memory: Resource {
                request: 512 << 20,
                limit: Some(1 << 30),
            },
        }
    }

    fn scale(comptes: u64) -> Scale {
        Scale {
            comptes,
            eleves: 0,
            etablissements: 1,
        }
    }

    #[test]
    fn stateless_services_scale_out_within_their_bounds() {
        let s = sizing(true);
        let small = s.at(&scale(10_000));
        assert_eq!((small.replicas, small.autoscale_max), (2, Some(20)));
        let essonne = s.at(&scale(182_000));
        assert_eq!((essonne.replicas, essonne.autoscale_max), (4, Some(20)));
        let idf = s.at(&scale(1_200_000));
        assert_eq!((idf.replicas, idf.autoscale_max), (20, None));
        assert_eq!(idf.cpu, s.cpu, "a replica's resources do not grow");
    }

    #[test]
    fn stateful_services_scale_up_to_their_factor() {
        let s = sizing(false);
        let essonne = s.at(&scale(100_000));
        assert_eq!(essonne.replicas, 1);
        assert_eq!(essonne.cpu.request, 500);
        assert_eq!(essonne.memory.limit, Some(2 << 30));
        let idf = s.at(&scale(1_200_000));
        assert_eq!(
            (idf.replicas, idf.cpu.request, idf.cpu.limit),
            (1, 1000, Some(4000))
        );
    }
}
