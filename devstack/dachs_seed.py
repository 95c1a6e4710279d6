"""The devstack catalogue's synthetic EVN experiments: ObsCore rows relative to a given day.

About 40 experiments with codes of the EVN's shape, 1-3 targets each (real sources at their real
positions, and J-named ones whose names match their positions), 1-3 FITS-IDI products each (one
ObsCore row per product, a product observing one target). 26 were observed 430 days to 12 years
before the day (public), 14 within the last 290 days (proprietary: data are public 365 days after
the observation); none in between, so which ones are public does not change from one day to the
next. EG078B (the demo's experiment) is long public. A fixed random seed: the same day gives the
same rows.

Beside them, the archive's real size: 5,000 generated experiments in five series, ``EBnnnA``,
``ELnnnG``, ``EPnnnF``, ``EXnnnS`` and ``EYnnnR`` (nnn 000-999), one product and one target each,
observed 800 days to 10 years before the day (public). These are the codes the project's black-box
checks submit to (their number is the time of day modulo 1000): with the catalogue in force an
unknown code is refused, and in the archive every experiment a researcher submits to exists.
Codes beginning ``EZ`` are never seeded: the checks take ``EZnnnQ`` as a code nobody knows.
"""

from __future__ import annotations

import datetime as dt
import random

CODES = "E[A-Z][0-9]{3}[A-Z]?"
EMBARGO_DAYS = 365
DID_BASE = "ivo://evn.jive/archive"
MJD_ZERO = dt.date(1858, 11, 17)
RANDOM_SEED = 15
RECENT, OLD = 14, 26  # experiments within the last 290 days, and 430 days or more ago
SERIES = (("EB", "A"), ("EL", "G"), ("EP", "F"), ("EX", "S"), ("EY", "R"))

# (name, RA, Dec), degrees, ICRS
SOURCES = (
    ("3C 345", 250.74504, 39.81028),
    ("J1638+5720", 249.55608, 57.33998),
    ("3C 273", 187.27792, 2.05239),
    ("3C 279", 194.04653, -5.78931),
    ("3C 84", 49.95067, 41.51170),
    ("3C 454.3", 343.49062, 16.14821),
    ("3C 286", 202.78453, 30.50916),
    ("3C 147", 85.65058, 49.85201),
    ("3C 48", 24.42208, 33.15976),
    ("4C 39.25", 141.76256, 39.03913),
    ("OJ 287", 133.70365, 20.10851),
    ("BL Lac", 330.68038, 42.27777),
    ("M82", 148.96846, 69.67970),
    ("M87", 187.70593, 12.39112),
    ("SGR A*", 266.41684, -29.00781),
    ("Cyg X-3", 308.10742, 40.95775),
    ("SS 433", 287.95652, 4.98272),
    ("Cas A", 350.85000, 58.81500),
    ("Cyg A", 299.86815, 40.73392),
    ("CTA 102", 338.15170, 11.73081),
    ("S5 0716+714", 110.47270, 71.34343),
    ("Mrk 421", 166.11381, 38.20883),
    ("Mrk 501", 253.46757, 39.76017),
    ("NGC 4258", 184.73963, 47.30397),
    ("Arp 220", 233.73793, 23.50320),
    ("FRB 20121102A", 82.99462, 33.14792),
    ("TXS 0506+056", 77.35819, 5.69315),
    ("AT2018cow", 244.00029, 22.26801),
    ("W3(OH)", 36.76696, 61.87375),
    ("PSR B1937+21", 294.91067, 21.58310),
)
FIXED = (  # (code, days before the day, target names): the ones the demo and tests name
    ("EG078B", 2003, ("3C 345", "J1638+5720")),
    ("EG087C", 1461, ("3C 279",)),
    ("EK050A", 120, ("M82",)),
)


def j_name(ra: float, dec: float) -> str:
    """The IAU-style J name of a position (truncated sexagesimal), e.g. J1234+5623."""
    hours = ra / 15
    hh, mm = int(hours), int(hours % 1 * 60)
    sign, d = ("+" if dec >= 0 else "-"), abs(dec)
    return f"J{hh:02d}{mm:02d}{sign}{int(d):02d}{int(d % 1 * 60):02d}"


def _pool(rng: random.Random) -> list[tuple[str, float, float]]:
    pool = list(SOURCES)
    for _ in range(25):
        ra, dec = round(rng.uniform(0, 360), 5), round(rng.uniform(-30, 85), 5)
        pool.append((j_name(ra, dec), ra, dec))
    return pool


def _codes(rng: random.Random, n: int) -> list[str]:
    taken = {code for code, _, _ in FIXED}
    out: list[str] = []
    while len(out) < n:  # no EZ…: the checks take EZnnnQ for codes the catalogue does not know
        suffix = rng.choice("ABCD") if rng.random() < 0.7 else ""
        code = f"E{rng.choice('ABCGHKLMNPRSTVW')}{rng.randint(1, 199):03d}{suffix}"
        if code not in taken:
            taken.add(code)
            out.append(code)
    return out


def experiments(rng: random.Random) -> list[tuple[str, int, list[tuple[str, float, float]]]]:
    """(code, days before the day, targets), independent of the day."""
    pool = _pool(rng)
    by_name = {name: (name, ra, dec) for name, ra, dec in pool}
    out = [(code, ago, [by_name[t] for t in targets]) for code, ago, targets in FIXED]
    recent = RECENT - sum(ago < 300 for _, ago, _ in FIXED)
    old = OLD - sum(ago >= 300 for _, ago, _ in FIXED)
    for i, code in enumerate(_codes(rng, recent + old)):
        ago = rng.randint(3, 290) if i < recent else rng.randint(430, 4400)
        out.append((code, ago, rng.sample(pool, rng.choice((1, 1, 2, 2, 3)))))
    out.sort(key=lambda e: -e[1])  # oldest first, as an archive lists them
    return out + _series({code for code, _, _ in out})


def _series(taken: set[str]) -> list[tuple[str, int, list[tuple[str, float, float]]]]:
    """The generated series (after the hand-made experiments, which keep their rows)."""
    rng = random.Random(RANDOM_SEED + 1)  # noqa: S311 (reproducible synthetic data)
    out = []
    for prefix, suffix in SERIES:
        for n in range(1000):
            ra, dec = round(rng.uniform(0, 360), 5), round(rng.uniform(-30, 85), 5)
            ago = rng.randint(800, 3650)
            code = f"{prefix}{n:03d}{suffix}"
            if code not in taken:
                out.append((code, ago, [(j_name(ra, dec), ra, dec)]))
    return out


def _mjd(day: dt.date) -> int:
    return (day - MJD_ZERO).days


def rows(today: dt.date, product_base: str) -> list[dict]:
    """The ObsCore rows (as dicts) for ``today``; ``product_base`` + ``product`` is access_url."""
    rng = random.Random(RANDOM_SEED)  # noqa: S311 (reproducible synthetic data)
    out = []
    for index, (code, ago, targets) in enumerate(experiments(rng)):
        start = _mjd(today) - ago + round(rng.uniform(0.3, 0.7), 5)
        end = round(start + rng.uniform(0.2, 0.55), 5)
        public_from = MJD_ZERO + dt.timedelta(days=int(end) + EMBARGO_DAYS)
        showcase = index < RECENT + OLD  # the series have one product each
        products = max(len(targets), rng.randint(1, 3)) if showcase else 1
        for i in range(products):
            name, ra, dec = targets[i % len(targets)]
            product = f"{code}/{code.lower()}_1_1.IDI{i + 1}"
            out.append(
                {
                    "obs_id": code,
                    "target_name": name,
                    "s_ra": ra,
                    "s_dec": dec,
                    "t_min": start,
                    "t_max": end,
                    "access_url": product_base + product,
                    "obs_publisher_did": f"{DID_BASE}?{product}",
                    "product": product,
                    "size": rng.randint(200, 8000) * 1024 * 1024,
                    "public_from": public_from.isoformat(),
                    "embargo": public_from.isoformat() if public_from > today else None,
                }
            )
    return out
