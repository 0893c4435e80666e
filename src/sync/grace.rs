//! The grace a check gets when `hcwrap sync --grace` does not say: a quarter of the
//! shortest time between two runs of its schedule, at least a minute (the server's
//! least) and at most six hours. Every 5 minutes gives 1m15s, hourly 15 minutes, daily
//! and longer 6 hours. Of `OnCalendar` expressions, the shorthands (`hourly`, `daily`, ...)
//! and `*:0/N` are worked out; any other gets an hour.
//! A run must also end within the grace after its start ping, so a job that runs longer
//! than that needs `--grace`.

/// The default grace for a five-field cron `schedule` (translated from any nickname), or
/// an `OnCalendar` one, in seconds.
pub fn default_grace(schedule: &str) -> u64 {
    shortest_gap(schedule)
        .or_else(|| calendar_gap(schedule))
        .map_or(3600, |gap| (gap / 4).clamp(60, 6 * 3600))
}

/// The time between runs of the `OnCalendar` shorthands and of `*:0/N` (every N minutes);
/// `None` for other expressions, which are not worked out here.
fn calendar_gap(schedule: &str) -> Option<u64> {
    let day = 24 * 3600;
    let gaps = schedule.lines().map(|line| match line.trim() {
        "minutely" => Some(60),
        "hourly" => Some(3600),
        "daily" => Some(day),
        "weekly" => Some(7 * day),
        "monthly" => Some(28 * day),
        "quarterly" | "semiannually" | "yearly" | "annually" => Some(90 * day),
        other => other
            .strip_prefix("*:0/")
            .or_else(|| other.strip_prefix("*:00/"))
            .and_then(|n| n.parse::<u64>().ok())
            .filter(|n| *n > 0)
            .map(|n| n * 60),
    });
    gaps.collect::<Option<Vec<u64>>>()?.into_iter().min()
}

/// The shortest time between two runs of a five-field schedule, in seconds; `None` for
/// anything else.
fn shortest_gap(schedule: &str) -> Option<u64> {
    let fields: Vec<&str> = schedule.split_whitespace().collect();
    let [minute, hour, dom, month, dow] = fields.as_slice() else {
        return None;
    };
    let minutes = expand(minute, 0, 59)?;
    let hours = expand(hour, 0, 23)?;
    let mut times: Vec<u64> = hours
        .iter()
        .flat_map(|h| minutes.iter().map(move |m| h * 3600 + m * 60))
        .collect();
    times.sort_unstable();
    let day = 24 * 3600;
    let within_day = times
        .windows(2)
        .map(|w| w[1] - w[0])
        .chain(times.first().zip(times.last()).map(|(f, l)| f + day - l))
        .min()?;
    let every_day = [dom, month, dow].iter().all(|f| **f == "*" || **f == "*/1");
    if every_day || times.len() > 1 {
        return Some(within_day);
    }
    // Once a day, on some days only: a day at least, a week for one weekday, about a
    // month for one day of the month.
    let single = |f: &str| !f.contains(['*', ',', '-', '/']);
    Some(if *dow != "*" && single(dow) {
        7 * day
    } else if *dom != "*" && single(dom) {
        28 * day
    } else {
        day
    })
}

/// The values of one field between `low` and `high`; `None` for what is not worked out
/// here (names).
fn expand(field: &str, low: u64, high: u64) -> Option<Vec<u64>> {
    let mut values = Vec::new();
    for part in field.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((range, step)) => (range, step.parse::<u64>().ok().filter(|s| *s > 0)?),
            None => (part, 1),
        };
        let (from, to) = if range == "*" {
            (low, high)
        } else if let Some((a, b)) = range.split_once('-') {
            (a.parse().ok()?, b.parse().ok()?)
        } else {
            let a: u64 = range.parse().ok()?;
            (a, if part.contains('/') { high } else { a })
        };
        let mut v = from;
        while v <= to.min(high) {
            values.push(v);
            v += step;
        }
    }
    values.sort_unstable();
    values.dedup();
    (!values.is_empty()).then_some(values)
}

#[cfg(test)]
mod tests {
    use super::default_grace;

    #[test]
    fn grace_is_a_quarter_of_the_shortest_gap_within_bounds() {
        assert_eq!(default_grace("*/5 * * * *"), 75);
        assert_eq!(default_grace("* * * * *"), 60);
        assert_eq!(default_grace("0 * * * *"), 900);
        assert_eq!(default_grace("0,30 9-17 * * *"), 450);
        assert_eq!(default_grace("0 3 * * *"), 6 * 3600);
        assert_eq!(default_grace("0 3 * * 1"), 6 * 3600);
        assert_eq!(default_grace("0 */6 * * *"), 5400);
        assert_eq!(default_grace("Mon *-*-* 09:00:00"), 3600);
        assert_eq!(default_grace("*:0/5"), 75);
        assert_eq!(default_grace("minutely"), 60);
        assert_eq!(default_grace("weekly"), 6 * 3600);
        assert_eq!(default_grace("hourly\ndaily"), 900);
        assert_eq!(default_grace("0 3 * * mon"), 6 * 3600);
    }
}
