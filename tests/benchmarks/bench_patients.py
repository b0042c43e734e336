"""Patient search and registration at scale: the HTTP API against hand-written SQL, in one run.

Starts a private embedded PostgreSQL in a temporary directory, bulk-loads N patients with COPY,
starts the real server on 127.0.0.1 and measures over HTTP (keep-alive) the latency of name
search, MRN search and registration. The same work done directly in SQL with psycopg is the
baseline; every figure is printed absolute and as a ratio API / SQL (see DESIGN.md §7).

    .venv/bin/python tests/benchmarks/bench_patients.py [--patients 100000]
"""

import argparse
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache
from itertools import accumulate
from pathlib import Path
from typing import Any, Protocol

import httpx
import psycopg
import uvicorn
from psycopg.sql import SQL, Composed, Identifier
from psycopg.types.json import Json

from hms_core.db.base import new_id
from hms_core.rules.contact import phone_digits
from hms_core.rules.mrn import make_mrn
from hms_core.rules.names import (
    fold,
    name_tokens,
    names_look_alike,
    prefix_upper_bound,
    query_tokens,
    sort_name,
)
from hms_core.services.counters import FIRST_MRN_SERIAL, MRN_COUNTER
from hms_server import embedded_pg
from hms_server.app import create_app
from hms_server.auth import create_user
from hms_server.db import Database, make_engine, migrate
from hms_server.settings import Settings

USERNAME, PASSWORD = "bench-reception", "bench-reception-password"
CLIENT_ID = "bench_patients"
SEARCH_LIMIT = 25
SEARCH_TARGET_MS, REGISTRATION_TARGET_MS = 50.0, 30.0
SERVER_MODES = {"process": "server in its own process", "thread": "server in a thread of this one"}
TODAY = date.today()
OLDEST = date(TODAY.year - 100, 1, 1)

# ---------------------------------------------------------------------------------------------
# Realistic people: names of many cultures (accents, apostrophes, hyphens, compound surnames).
# Within a culture, earlier names are more common (Zipf-like weights).

CULTURES: dict[str, tuple[str, str, str]] = {
    "hispanic": (
        "María Lucía Sofía Valentina Camila Ximena Guadalupe Inés Begoña Nuria Ana Carmen Rocío "
        "María-José Paula Elena",
        "José Juan Luis Jesús Andrés Sebastián Martín Tomás Íñigo Joaquín Raúl Óscar Diego "
        "Alejandro Carlos Juan-Pablo",
        "García Rodríguez Martínez Hernández López González Pérez Sánchez Ramírez Torres Flores "
        "Rivera Gómez Díaz Muñoz Núñez Peña Ibáñez Castañeda Jiménez Álvarez Ortiz Cruz Morales "
        "Reyes Gutiérrez Vásquez Domínguez Suárez Márquez Fernández",
    ),
    "french": (
        "Chloé Léa Manon Camille Inès Zoé Hélène Margaux Élodie Anaïs Marie-Claire Céline Amélie",
        "Léo Gabriel Raphaël Louis Jules Hugo Mathéo Noël François Jérôme Benoît Jean-Pierre",
        "Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Lefèvre Lefebvre "
        "Girard Bonnet Dupont Lambert Fontaine Rousseau Vincent Beaumont Béranger Gauthier "
        "Mercier Faure André",
    ),
    "germanic": (
        "Anna Lena Mia Hannah Jördis Ingrid Åsa Sigrid Maja Greta Frieda Katrin Solveig",
        "Lukas Jonas Jürgen Björn Søren Lars Magnus Anders Henrik Matthias Jörg Ulf Pieter",
        "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schäfer Koch Schröder Weiß "
        "Groß Jensen Nielsen Hansen Johansson Andersson Lindqvist Åberg Sjöberg Øvergaard "
        "Brønsted Kristiansen Strauß de_Vries van_der_Berg",
    ),
    "slavic": (
        "Olga Natalia Zofia Agnieszka Małgorzata Katarzyna Irina Jelena Milena Věra Anastasia",
        "Ivan Dmitri Piotr Łukasz Tomasz Jiří Miloš Aleksandr Wojciech Bogdan Sergei",
        "Ivanova Petrov Smirnov Nowak Kowalski Wiśniewski Wójcik Kamiński Lewandowski Dvořák "
        "Novák Horváth Jovanović Petrović Kovačević Szabó Nagy Popescu",
    ),
    "english": (
        "Olivia Emma Charlotte Amelia Sophie Grace Emily Chloe Ellie Siobhán Niamh Aoife Zoë",
        "Oliver George Harry Jack William James Thomas Liam Noah Seán Ciarán Daniel",
        "Smith Jones Williams Brown Taylor Davies Wilson Evans Johnson Walker O'Brien O'Connor "
        "McCarthy MacDonald Murphy Kelly Smith-Jones Ó_Súilleabháin Clarke",
    ),
    "african": (
        "Amina Aisha Fatou Nia Abena Chiamaka Ngozi Wanjiru Zanele Thandiwe Adaeze",
        "Kwame Kofi Chukwuemeka Oluwaseun Tunde Abdoulaye Mamadou Sipho Jabari Tendai",
        "Okafor Mensah Mwangi Okonkwo Adeyemi Diallo Traoré Ndiaye Kamau Otieno Boateng Asante "
        "Nkosi Dlamini Abubakar Eze Achebe",
    ),
    "middle_east": (
        "Fatima Layla Mariam Yasmin Zeynep Elif Şule Leila Noor Hiba Shirin",
        "Mohammed Ahmed Omar Ali Hassan Yusuf Mehmet Emre Çağrı Reza Karim",
        "Haddad Khalil Al-Sayed Nasser Rahman Hussein Yılmaz Kaya Demir Şahin Çelik Öztürk "
        "Karimi Hosseini Farahani El-Amin",
    ),
    "south_asian": (
        "Priya Ananya Aditi Kavya Lakshmi Meera Sanjana Divya",
        "Ravi Arjun Vikram Rahul Aditya Sanjay Imran Karan",
        "Patel Sharma Singh Kumar Gupta Reddy Iyer Nair Chatterjee Banerjee Khan Mehta Desai Joshi",
    ),
    "east_asian": (
        "Mei Yuki Hana Sakura Ji-woo Seo-yeon Thảo Linh Xiu Aiko",
        "Kenji Hiroshi Wei Jun Min-jun Hyun-woo Minh Quang Haruto Takumi",
        "Nguyễn Trần Lê Phạm Hoàng Kim Lee Park Choi Wang Li Zhang Liu Chen Nakamura Tanaka "
        "Suzuki Satō Takahashi",
    ),
    "lusitalian": (
        "Giulia Chiara Francesca Beatriz Conceição Mariana Inês Alessia Letícia",
        "Giuseppe Luca Matteo João Gonçalo Antônio Nicolò Lorenzo Vítor",
        "Rossi Russo Ferrari Esposito Bianchi Romano Ricci De_Luca Silva Santos Ferreira "
        "Pereira Costa Gonçalves Magalhães Araújo",
    ),
}
CULTURE_WEIGHTS = {
    "hispanic": 20,
    "english": 16,
    "french": 9,
    "germanic": 9,
    "slavic": 8,
    "african": 10,
    "middle_east": 9,
    "south_asian": 8,
    "east_asian": 8,
    "lusitalian": 7,
}
CULTURE_KEYS = list(CULTURE_WEIGHTS)
CULTURE_CUM_WEIGHTS = list(accumulate(CULTURE_WEIGHTS.values()))
CITIES = ["Riverside", "Northgate", "Hillview", "Lakeside", "Old Town", "São Luís", "Zürich"]
LANGUAGES = ["English", "Spanish", "French", "Swahili", "Arabic", "Portuguese", "Vietnamese"]
PAYERS = ["National Health Fund", "MediCare Plus", "Allied Insurance", "Unity Health Mutual"]


@dataclass(frozen=True)
class NamePool:
    names: list[str]
    cum_weights: list[float]

    @classmethod
    def parse(cls, words: str) -> "NamePool":
        names = [w.replace("_", " ") for w in words.split()]  # "_" joins compound names
        return cls(names, list(accumulate(1 / (rank + 1) ** 0.7 for rank in range(len(names)))))

    def pick(self, rng: random.Random) -> str:
        return rng.choices(self.names, cum_weights=self.cum_weights)[0]


@dataclass(frozen=True)
class Culture:
    female: NamePool
    male: NamePool
    family: NamePool
    double_family: bool


POOLS = {
    key: Culture(*map(NamePool.parse, words), double_family=key in {"hispanic", "lusitalian"})
    for key, words in CULTURES.items()
}


@dataclass(frozen=True)
class Person:
    given: str
    family: str
    birth: date
    sex: str
    phone: str

    def body(self) -> dict[str, str]:
        return {
            "given_name": self.given,
            "family_name": self.family,
            "birth_date": self.birth.isoformat(),
            "sex": self.sex,
            "phone": self.phone,
        }


def random_phone(rng: random.Random) -> str:
    n = rng.randrange
    formats = (
        lambda: f"+1 {n(201, 989)} {n(200, 999)} {n(1000, 9999)}",
        lambda: f"({n(201, 989)}) {n(200, 999)}-{n(1000, 9999)}",
        lambda: f"+44 7{n(100, 999)} {n(100000, 999999)}",
        lambda: f"+33 6 {n(10, 99)} {n(10, 99)} {n(10, 99)} {n(10, 99)}",
        lambda: f"+254 7{n(10, 99)} {n(100, 999)} {n(100, 999)}",
        lambda: f"0{n(700, 799)} {n(100, 999)} {n(100, 999)}",
    )
    return rng.choice(formats)()


def random_person(rng: random.Random) -> Person:
    key = rng.choices(CULTURE_KEYS, cum_weights=CULTURE_CUM_WEIGHTS)[0]
    culture = POOLS[key]
    female = rng.random() < 0.51
    given = (culture.female if female else culture.male).pick(rng)
    family = culture.family.pick(rng)
    if culture.double_family and rng.random() < 0.4:
        family = f"{family} {culture.family.pick(rng)}"
    if rng.random() < 0.05:  # a parent from another culture
        family = POOLS[rng.choice(list(POOLS))].family.pick(rng)
    birth = OLDEST + timedelta(days=rng.randrange((TODAY - OLDEST).days))
    return Person(given, family, birth, "female" if female else "male", random_phone(rng))


# ---------------------------------------------------------------------------------------------
# Bulk load with COPY, deriving columns exactly as hms_core.services.patients does.

PATIENT_COLUMNS = (
    "id mrn given_name family_name birth_date birth_date_estimated sex phone phone_digits email "
    "address_line city country preferred_language insurance_payer insurance_policy_number "
    "insurance_valid_until sort_name row_version created_at updated_at"
).split()
AUDIT_COLUMNS = (
    "id at actor_user_id actor_username actor_role client_id client_address patient_id action "
    "outcome detail"
).split()


@dataclass
class Population:
    """What was loaded, kept in memory to choose queries and to keep new patients distinct."""

    people: list[Person] = field(default_factory=list)
    mrns: list[str] = field(default_factory=list)
    names_born_on: dict[date, list[str]] = field(default_factory=dict)
    phones: set[str] = field(default_factory=set)

    def add(self, person: Person) -> None:
        self.people.append(person)
        self.names_born_on.setdefault(person.birth, []).append(f"{person.given} {person.family}")
        self.phones.add(phone_digits(person.phone))

    def is_new(self, person: Person) -> bool:
        """Whether the server's duplicate check would let `person` through unreviewed."""
        if phone_digits(person.phone) in self.phones:
            return False
        name = f"{person.given} {person.family}"
        return not any(names_look_alike(name, n) for n in self.names_born_on.get(person.birth, []))


@dataclass
class Rows:
    patients: list[tuple[Any, ...]] = field(default_factory=list)
    tokens: list[tuple[uuid.UUID, str]] = field(default_factory=list)
    audits: list[tuple[Any, ...]] = field(default_factory=list)


@dataclass(frozen=True)
class DerivedNames:
    """What the service derives from a patient's names (as hms_core.services.patients does)."""

    sort_name: str
    tokens: tuple[str, ...]
    email_local: str


@cache  # a few thousand distinct names among 100,000 patients
def derived_names(given: str, family: str) -> DerivedNames:
    folded = f"{fold(given)}.{fold(family)}"
    return DerivedNames(
        sort_name=sort_name(given, family),
        tokens=tuple(sorted(t[:100] for t in name_tokens(given, family))),
        email_local="".join(c for c in folded if c.isalnum() or c == "."),
    )


def patient_row(
    rng: random.Random, person: Person, mrn: str, names: DerivedNames, now: datetime
) -> tuple[Any, ...]:
    created = now - timedelta(minutes=rng.randrange(10 * 365 * 24 * 60))
    insured = rng.random() < 0.6
    email = f"{names.email_local}{rng.randrange(100)}@example.org" if rng.random() < 0.4 else None
    return (
        new_id(),
        mrn,
        person.given,
        person.family,
        person.birth,
        False,
        person.sex,
        person.phone,
        phone_digits(person.phone),
        email,
        f"{rng.randrange(1, 400)} {rng.choice(['Oak', 'Market', 'Station', 'Mill'])} Street",
        rng.choice(CITIES),
        "Demo Republic",
        rng.choice(LANGUAGES),
        rng.choice(PAYERS) if insured else None,
        f"POL-{rng.randrange(100000, 999999)}" if insured else None,
        date(TODAY.year + 1, 12, 31) if insured else None,
        names.sort_name,
        1,
        created,
        created,
    )


def audit_row(patient_id: uuid.UUID, mrn: str, at: datetime) -> tuple[Any, ...]:
    """The trail a registration by the system actor leaves (see AUDIT_COLUMNS)."""
    actor = (None, "system", "", "", "")
    return (new_id(), at, *actor, patient_id, "patient.register", "success", Json({"mrn": mrn}))


def generate(count: int, rng: random.Random) -> tuple[Population, Rows]:
    population, rows, now = Population(), Rows(), datetime.now(UTC)
    for serial in range(FIRST_MRN_SERIAL, FIRST_MRN_SERIAL + count):
        person, mrn = random_person(rng), make_mrn(serial)
        names = derived_names(person.given, person.family)
        row = patient_row(rng, person, mrn, names, now)
        population.add(person)
        population.mrns.append(mrn)
        rows.patients.append(row)
        rows.tokens.extend((row[0], t, names.sort_name, person.birth) for t in names.tokens)
        rows.audits.append(audit_row(row[0], mrn, row[-1]))
    return population, rows


TOKEN_COLUMNS = ("patient_id", "token", "sort_name", "birth_date")


def copy_rows(
    conn: psycopg.Connection, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    statement = SQL("COPY {} ({}) FROM STDIN").format(
        Identifier(table), SQL(", ").join(map(Identifier, columns))
    )
    with conn.cursor() as cur, cur.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def load(dsn: str, count: int, rng: random.Random) -> Population:
    started = time.perf_counter()
    population, rows = generate(count, rng)
    generated = time.perf_counter()
    with psycopg.connect(dsn) as conn:
        copy_rows(conn, "patient", PATIENT_COLUMNS, rows.patients)
        copy_rows(conn, "patient_name_token", TOKEN_COLUMNS, rows.tokens)
        copy_rows(conn, "audit_event", AUDIT_COLUMNS, rows.audits)
        conn.execute(
            "UPDATE number_sequence SET next_value = %s WHERE name = %s",
            (FIRST_MRN_SERIAL + count, MRN_COUNTER),
        )
    copied = time.perf_counter()
    # VACUUM as well as ANALYZE: sets the visibility map (index-only scans) and keeps
    # autovacuum from starting on the fresh rows in the middle of the measurements.
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE) patient, patient_name_token, audit_event, number_sequence")
    done = time.perf_counter()
    print(
        f"loaded {count:,} patients, {len(rows.tokens):,} name tokens, {count:,} audit rows "
        f"in {done - started:.1f} s = {count / (done - started):,.0f} patients/s "
        f"(generate {generated - started:.1f} s, COPY {copied - generated:.1f} s "
        f"= {count / (copied - generated):,.0f} patients/s, VACUUM ANALYZE {done - copied:.1f} s)"
    )
    return population


# ---------------------------------------------------------------------------------------------
# The workloads: the same inputs go to the API and to the SQL baseline.


@dataclass(frozen=True)
class Workload:
    """One figure's inputs; each list starts with the warm-up ones."""

    label: str
    kind: str  # "search" or "register"
    api_inputs: list[Any]
    sql_inputs: list[Any]

    @classmethod
    def searches(cls, label: str, queries: list[str]) -> "Workload":
        return cls(label, "search", queries, queries)


def family_prefix(rng: random.Random, person: Person) -> str:
    text = person.family[: rng.choice((3, 4))]
    return text.lower() if rng.random() < 0.5 else text


def family_then_given(rng: random.Random, person: Person) -> str:
    """Prefixes of both names, family name first (the reverse of how they are registered)."""
    return f"{person.family[: rng.choice((3, 4))]} {person.given[: rng.choice((2, 3, 4))]}"


def accent_variant(rng: random.Random, person: Person) -> str:
    """Typed without the accents (most common), or with them in full."""
    if rng.random() < 0.7:
        return f"{fold(person.family)[:5]} {fold(person.given)[:3]}"
    return f"{person.given} {person.family}"


def has_accent(person: Person) -> bool:
    return not f"{person.given}{person.family}".isascii()


def name_queries(
    rng: random.Random,
    people: list[Person],
    count: int,
    make: Callable[[random.Random, Person], str],
) -> list[str]:
    return [make(rng, rng.choice(people)) for _ in range(count)]


def new_people(rng: random.Random, population: Population, count: int) -> list[Person]:
    """People the duplicate check will not flag: no look-alike name on their birth date and a
    phone number nobody has."""
    made: list[Person] = []
    while len(made) < count:
        person = random_person(rng)
        if population.is_new(person):
            population.add(person)
            made.append(person)
    return made


def workloads(rng: random.Random, population: Population, count: int) -> list[Workload]:
    """`count` inputs per figure, warm-up included; for registration `count` new people each
    for the API and for the baseline, since nobody can be registered twice."""
    people = population.people
    accented = [p for p in people if has_accent(p)]
    return [
        Workload.searches("name: family prefix", name_queries(rng, people, count, family_prefix)),
        Workload.searches(
            "name: family + given", name_queries(rng, people, count, family_then_given)
        ),
        Workload.searches(
            "name: accents varied", name_queries(rng, accented, count, accent_variant)
        ),
        Workload.searches("MRN", rng.sample(population.mrns, count)),
        Workload(
            "registration",
            "register",
            new_people(rng, population, count),
            new_people(rng, population, count),
        ),
    ]


# ---------------------------------------------------------------------------------------------
# The two ways of doing the work.


class Runner(Protocol):
    def search(self, query: str) -> list[str]:
        """The MRNs found, in order."""
        ...

    def register(self, person: Person) -> str:
        """The new patient's MRN."""
        ...


class ApiRunner:
    def __init__(self, base_url: str) -> None:
        self.client = httpx.Client(
            base_url=base_url, timeout=30, headers={"X-HMS-Client": CLIENT_ID}
        )
        login = self.client.post(
            "/api/auth/login", json={"username": USERNAME, "password": PASSWORD}
        )
        login.raise_for_status()
        self.client.headers["Authorization"] = f"Bearer {login.json()['token']}"

    def search(self, query: str) -> list[str]:
        response = self.client.get("/api/patients", params={"q": query})
        response.raise_for_status()
        return [p["mrn"] for p in response.json()]

    def register(self, person: Person) -> str:
        response = self.client.post("/api/patients", json=person.body())
        if response.status_code != 201:
            raise RuntimeError(f"registration refused: {response.status_code} {response.text}")
        return response.json()["mrn"]

    def close(self) -> None:
        self.client.close()


# The whole row, as the ORM loads it; p.mrn first so that results compare easily.
SELECT_LIVE = (
    "SELECT p.mrn, p.* FROM patient p WHERE p.deleted_at IS NULL AND p.merged_into_id IS NULL"
)
# Constant text; every value is a bound parameter.
BY_NAME = SQL(
    SELECT_LIVE  # noqa: S608
    + " AND p.id IN (SELECT t.patient_id FROM patient_name_token t WHERE {} "
    "GROUP BY t.patient_id, t.sort_name, t.birth_date "
    "ORDER BY t.sort_name, t.birth_date, t.patient_id LIMIT %s) "
    "ORDER BY p.sort_name, p.birth_date, p.id"
)
BY_MRN = SQL(SELECT_LIVE + " AND p.mrn = %s")
LEAD_PREFIX = SQL("t.token >= %s{}")
OTHER_PREFIX = SQL(
    "EXISTS (SELECT 1 FROM patient_name_token o WHERE o.patient_id = t.patient_id "
    "AND o.token >= %s{})"
)
TAKE_MRN = (
    "UPDATE number_sequence SET next_value = next_value + 1 WHERE name = %s "
    "RETURNING next_value - 1"
)
INSERT_PATIENT = (
    "INSERT INTO patient (id, mrn, given_name, family_name, birth_date, birth_date_estimated, "
    "sex, phone, phone_digits, sort_name, row_version, created_at, updated_at) "
    "VALUES (%s, %s, %s, %s, %s, false, %s, %s, %s, %s, 1, %s, %s)"
)
INSERT_TOKENS = (
    "INSERT INTO patient_name_token (patient_id, token, sort_name, birth_date) "
    "SELECT %s, unnest(%s::varchar[]), %s, %s"
)
INSERT_AUDIT = (
    "INSERT INTO audit_event (id, at, actor_user_id, actor_username, actor_role, client_id, "
    "client_address, patient_id, action, outcome, detail) "
    "VALUES (%s, %s, NULL, %s, 'reception', %s, '127.0.0.1', %s, 'patient.register', "
    "'success', %s)"
)


def name_search_sql(query: str) -> tuple[Composed, list[Any]]:
    """The SELECT hms_core.services.patients._search_names issues, by hand: the longest word
    drives a scan of the token index, each other word must match the same patient."""
    tokens = query_tokens(query)[:6]
    lead = max(tokens, key=len)
    others = list(tokens)
    others.remove(lead)
    conditions, params = [], []
    for template, column, token in [(LEAD_PREFIX, "t", lead)] + [
        (OTHER_PREFIX, "o", o) for o in others
    ]:
        upper = prefix_upper_bound(token)
        below = SQL("") if upper is None else SQL(f" AND {column}.token < %s")
        conditions.append(template.format(below))
        params += [token] if upper is None else [token, upper]
    return BY_NAME.format(SQL(" AND ").join(conditions)), [*params, SEARCH_LIMIT]


class SqlRunner:
    """The baseline: the same work in hand-written SQL over one psycopg connection."""

    def __init__(self, dsn: str) -> None:
        self.conn = psycopg.connect(dsn)

    def search(self, query: str) -> list[str]:
        statement, params = (BY_MRN, [query]) if query.isdigit() else name_search_sql(query)
        with self.conn.transaction():
            rows = self.conn.execute(statement, params).fetchall()
        return [row[0] for row in rows]

    def register(self, person: Person) -> str:
        patient_id, now = new_id(), datetime.now(UTC)
        digits, names = phone_digits(person.phone), derived_names(person.given, person.family)
        with self.conn.transaction():
            taken = self.conn.execute(TAKE_MRN, (MRN_COUNTER,)).fetchone()
            assert taken is not None, "the mrn counter row is missing"
            mrn = make_mrn(taken[0])
            self.conn.execute(
                INSERT_PATIENT,
                (patient_id, mrn, person.given, person.family, person.birth, person.sex)
                + (person.phone, digits, names.sort_name, now, now),
            )
            self.conn.execute(
                INSERT_TOKENS, (patient_id, list(names.tokens), names.sort_name, person.birth)
            )
            audit = (new_id(), now, USERNAME, CLIENT_ID, patient_id, Json({"mrn": mrn}))
            self.conn.execute(INSERT_AUDIT, audit)
        return mrn

    def close(self) -> None:
        self.conn.close()


# ---------------------------------------------------------------------------------------------
# Measuring.


@dataclass(frozen=True)
class Latency:
    p50: float
    p95: float

    @classmethod
    def of(cls, samples_ms: list[float]) -> "Latency":
        cuts = statistics.quantiles(samples_ms, n=100, method="inclusive")
        return cls(p50=cuts[49], p95=cuts[94])


@dataclass(frozen=True)
class Figure:
    label: str
    kind: str
    api: Latency
    sql: Latency


def timed(call: Callable[[Any], object], inputs: Sequence[Any]) -> list[float]:
    samples = []
    for item in inputs:
        started = time.perf_counter_ns()
        call(item)
        samples.append((time.perf_counter_ns() - started) / 1e6)
    return samples


def check_same_results(api: Runner, sql: Runner, queries: Sequence[str]) -> None:
    """The baseline must find what the API finds, or the comparison means nothing.
    (Compared as sets: ORDER BY sort_name, birth_date leaves ties in no particular order.)"""
    for query in queries:
        from_api, from_sql = api.search(query), sql.search(query)
        if sorted(from_api) != sorted(from_sql):
            raise AssertionError(f"{query!r}: API found {from_api[:5]}…, SQL {from_sql[:5]}…")


def measure(workload: Workload, api: Runner, sql: Runner, warmup: int) -> Figure:
    """Latencies after the first `warmup` inputs, which are run but not counted."""
    if workload.kind == "search":
        check_same_results(api, sql, workload.api_inputs[:warmup])
        api_call, sql_call = api.search, sql.search
    else:
        api_call, sql_call = api.register, sql.register
    api_ms = timed(api_call, workload.api_inputs)[warmup:]
    sql_ms = timed(sql_call, workload.sql_inputs)[warmup:]
    return Figure(workload.label, workload.kind, Latency.of(api_ms), Latency.of(sql_ms))


# ---------------------------------------------------------------------------------------------
# The environment: embedded PostgreSQL, migrations, a user, the server.


@contextmanager
def embedded_database(root: Path) -> Iterator[str]:
    """A private PostgreSQL in `root`, migrated; yields its SQLAlchemy URL, stops it after."""
    url = embedded_pg.start(root)
    try:
        migrate(url)
        yield url
    finally:
        # cleanup_mode="stop" (embedded_pg's choice) would stop it when this process exits;
        # stop it now instead, before its directory is deleted.
        embedded_pg.pgserver.get_server(root / "pgdata").cleanup()


def create_bench_user(url: str) -> None:
    db = Database(make_engine(url))
    try:
        with db.unit_of_work() as session:
            create_user(session, USERNAME, "reception", PASSWORD, "Benchmark Reception")
    finally:
        db.engine.dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(base_url: str, alive: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if not alive():
            raise RuntimeError("the server stopped while starting")
        try:
            if httpx.get(f"{base_url}/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError("the server did not start within 60 s")


@contextmanager
def server_process(url: str, root: Path) -> Iterator[str]:
    """`hms-server serve` (create_app + Settings + Database under uvicorn) in its own process,
    so the benchmark client does not compete with the server for the GIL."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "HMS_DATABASE_URL": url, "HMS_DATA_DIR": str(root / "server")}
    command = [sys.executable, "-m", "hms_server.cli", "serve", "--port", str(port)]
    with open(root / "server.log", "wb") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until_up(base_url, lambda: process.poll() is None)
    except RuntimeError:
        process.kill()
        print((root / "server.log").read_text(errors="replace"), file=sys.stderr)
        raise
    try:
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


@contextmanager
def server_thread(url: str, root: Path) -> Iterator[str]:
    """The app under uvicorn in a thread of this process (simpler to profile)."""
    db = Database(make_engine(url))
    settings = Settings(data_dir=root / "server")
    port = free_port()
    config = uvicorn.Config(
        create_app(settings, db), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        base_url = f"http://127.0.0.1:{port}"
        wait_until_up(base_url, thread.is_alive)
        yield base_url
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        db.engine.dispose()


# ---------------------------------------------------------------------------------------------
# Reporting.


def ms(value: float) -> str:
    return f"{value:8.2f}"


def print_table(figures: list[Figure]) -> None:
    header = (
        f"{'figure':<22} {'API p50':>8} {'API p95':>8} {'SQL p50':>8} {'SQL p95':>8}"
        f" {'ratio p50':>9} {'ratio p95':>9}"
    )
    print("\nlatency in ms; ratio = API / SQL (same run, same inputs)")
    print(header)
    print("-" * len(header))
    for f in figures:
        print(
            f"{f.label:<22} {ms(f.api.p50)} {ms(f.api.p95)} {ms(f.sql.p50)} {ms(f.sql.p95)}"
            f" {f.api.p50 / f.sql.p50:8.1f}x {f.api.p95 / f.sql.p95:8.1f}x"
        )


def print_targets(figures: list[Figure]) -> None:
    print("\ntargets (API p95, informational):")
    for f in figures:
        target = SEARCH_TARGET_MS if f.kind == "search" else REGISTRATION_TARGET_MS
        verdict = "holds" if f.api.p95 < target else "MISSED"
        print(f"  {f.label:<22} p95 {f.api.p95:7.2f} ms < {target:.0f} ms: {verdict}")


# ---------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=100_000, help="patients to bulk-load")
    parser.add_argument("--queries", type=int, default=300, help="measured queries per figure")
    parser.add_argument("--warmup", type=int, default=30, help="unmeasured queries per figure")
    parser.add_argument("--seed", type=int, default=2026, help="random seed of the data")
    parser.add_argument(
        "--server",
        choices=("process", "thread"),
        default="process",
        help="run the server in its own process (default) or in a thread of this one",
    )
    return parser.parse_args(argv)


def describe(dsn: str, args: argparse.Namespace) -> None:
    with psycopg.connect(dsn) as conn:
        version = conn.execute("SHOW server_version").fetchone()
    setup = [
        f"PostgreSQL {version[0] if version else '?'} (embedded, pgserver)",
        SERVER_MODES[args.server],
        f"{args.queries} measured requests per figure after {args.warmup} warm-up",
    ]
    print("; ".join(setup))


def run(args: argparse.Namespace, root: Path) -> list[Figure]:
    rng = random.Random(args.seed)
    with embedded_database(root) as url:
        dsn = url.replace("postgresql+psycopg://", "postgresql://")
        describe(dsn, args)
        create_bench_user(url)
        population = load(dsn, args.patients, rng)
        plans = workloads(rng, population, args.warmup + args.queries)
        start_server = server_process if args.server == "process" else server_thread
        with (
            start_server(url, root) as base_url,
            closing(ApiRunner(base_url)) as api,
            closing(SqlRunner(dsn)) as sql,
        ):
            return [measure(w, api, sql, args.warmup) for w in plans]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="hms-bench-"))
    try:
        figures = run(args, root)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print_table(figures)
    print_targets(figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
