"""Settings by concern under one ``WARROOM_`` prefix, built once and passed down."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from layers.accounts.roles import Role

PROJECT_DIR = Path(__file__).resolve().parent.parent
# The roles that log in with a second factor unless configured otherwise (三权分立).
SECOND_FACTOR_ROLES = (Role.ADMIN, Role.SECURITY_ADMIN, Role.AUDITOR)


class DatabaseSettings(BaseSettings):
    """Where PostGIS is and how to pool connections to it."""

    model_config = SettingsConfigDict(env_prefix="WARROOM_DATABASE_", extra="ignore")

    url: str | None = Field(
        default=None,
        description="URL of an existing PostGIS (postgresql://, postgres:// or "
        "postgresql+psycopg2://) as the application's role; unset means the local cluster.",
    )
    owner_url: str | None = Field(
        default=None,
        description="URL of the same database as its owner, who runs the migrations and "
        "owns the audit log (layers/privileges.py); unset: WARROOM_DATABASE_URL is both.",
    )
    pool_size: int = Field(default=8, ge=1, le=200)
    max_overflow: int = Field(default=8, ge=0, le=200)
    statement_timeout_ms: int = Field(default=30_000, ge=100)
    connect_timeout_s: int = Field(
        default=2, ge=2, le=60, description="Longest wait for a new connection (libpq's "
        "minimum is 2 s): a database that does not answer is a 503 after this, not a hang.",
    )  # fmt: skip

    @field_validator("url", "owner_url")
    @classmethod
    def _psycopg2_url(cls, url: str | None) -> str | None:
        """Write every PostgreSQL URL form with the driver we ship (psycopg2).

        Parts the URL leaves out stay out: libpq fills them from PGHOST, PGPORT, PGUSER,
        PGPASSWORD, PGDATABASE and ~/.pgpass wherever a connection is made from the URL.
        """
        if not url:
            return None
        example = "write postgresql://user:password@host:port/database"
        try:
            parsed = make_url(url)
        except ArgumentError:
            raise ValueError(f"not a database URL; {example}") from None
        backend, _, driver = parsed.drivername.partition("+")
        if backend not in ("postgresql", "postgres"):
            raise ValueError(f"{backend}:// is not PostgreSQL; {example}")
        if driver not in ("", "psycopg2"):
            raise ValueError(f"driver {driver!r} is not installed (psycopg2 is); {example}")
        return parsed.set(drivername="postgresql+psycopg2").render_as_string(hide_password=False)

    @model_validator(mode="after")
    def _owner_of_a_given_database(self) -> DatabaseSettings:
        if self.owner_url and not self.url:
            raise ValueError(
                "WARROOM_DATABASE_OWNER_URL needs WARROOM_DATABASE_URL (the application's role "
                "on the same database); the local cluster has both roles of its own"
            )
        return self


class ClusterSettings(BaseSettings):
    """The project-local PostgreSQL cluster that ``make run`` starts when no URL is given."""

    model_config = SettingsConfigDict(env_prefix="WARROOM_CLUSTER_", extra="ignore")

    data_dir: Path = PROJECT_DIR / ".warroom" / "pgdata"
    port: int = Field(default=55432, ge=1024, le=65535)
    database: str = "warroom"
    os_user: str = Field(
        default="postgres",
        description="System user that owns and runs the cluster when we are root.",
    )

    @field_validator("port")
    @classmethod
    def _not_default_port(cls, port: int) -> int:
        if port == 5432:
            raise ValueError("the local cluster must not use 5432; pick another port")
        return port


class SecuritySettings(BaseSettings):
    """Authentication and session policy (等保 level 3 defaults)."""

    model_config = SettingsConfigDict(env_prefix="WARROOM_SECURITY_", extra="ignore")

    session_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    session_max_hours: int = Field(default=12, ge=1, le=24 * 7)
    max_failed_logins: int = Field(
        default=5, ge=1, le=100, description="Refused logins of one account from one address "
        "within lockout_minutes that lock that account for that address.",
    )  # fmt: skip
    max_failed_logins_per_source: int = Field(
        default=20, ge=1, le=10_000, description="Refused logins from one address, any "
        "account, within lockout_minutes that refuse every login from it.",
    )  # fmt: skip
    lockout_minutes: int = Field(default=15, ge=1)
    min_password_length: int = Field(default=10, ge=8)
    password_min_classes: int = Field(
        default=3, ge=1, le=4, description="Character classes (lower, upper, digit, other) "
        "a new password mixes at least.",
    )  # fmt: skip
    password_history: int = Field(
        default=5, ge=1, le=24, description="A new password may not be one of this many last."
    )
    password_max_age_days: int = Field(
        default=90, ge=1, description="After this, login succeeds only into changing the password."
    )
    second_factor_roles: Annotated[list[Role], NoDecode] = Field(
        default=list(SECOND_FACTOR_ROLES),
        description="Roles (comma-separated) that log in with a TOTP code besides the password.",
    )
    totp_issuer: str = Field(default="Warroom", min_length=1, max_length=40)
    session_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        le=60,
        description="How long a worker reuses a resolved session "
        "before reading it again (revocations reach every worker at once regardless).",
    )
    cookie_name: str = "warroom_session"
    cookie_secure: bool = Field(
        default=False, description="Send the session cookie over TLS only; on by itself when "
        "WARROOM_PUBLIC_URL is https.",
    )  # fmt: skip
    hsts_seconds: int = Field(
        default=31_536_000, ge=0, description="max-age of Strict-Transport-Security, sent when "
        "the app is reached over TLS (an https public URL or request); 0 sends none.",
    )  # fmt: skip

    @field_validator("second_factor_roles", mode="before")
    @classmethod
    def _role_list(cls, value: object) -> object:
        if isinstance(value, str):
            return [role.strip() for role in value.split(",") if role.strip()]
        return value


class FeatureSettings(BaseSettings):
    """Limits on feature geometry and reads."""

    model_config = SettingsConfigDict(env_prefix="WARROOM_FEATURES_", extra="ignore")

    max_vertices: int = Field(default=10_000, ge=4)
    default_limit: int = Field(default=100, ge=1)
    max_limit: int = Field(default=10_000, ge=1)


class LimitSettings(BaseSettings):
    """What one request may cost: body sizes, spatial question sizes, queries at once."""

    model_config = SettingsConfigDict(env_prefix="WARROOM_LIMITS_", extra="ignore")

    max_body_bytes: int = Field(
        default=2 * 1024**2, ge=1024, description="Any request body (imports have their own cap)."
    )
    login_body_bytes: int = Field(default=16 * 1024, ge=256)
    attachment_bytes: int = Field(
        default=10 * 1024**2, ge=1024, description="One file attached to a record (its "
        "upload's body may be 64 KiB more, for the form around the file).",
    )  # fmt: skip
    attachments_per_record: int = Field(default=50, ge=1, description="Files one record holds.")
    attachment_pixels: int = Field(
        default=60_000_000, ge=1_000_000, description="Pixels of an attached image, which is "
        "decoded to check it (a 50-megapixel phone photo passes; a decompression bomb does not).",
    )  # fmt: skip
    query_max_vertices: int = Field(
        default=2_000, ge=2, description="Vertices of a line or shape grown by a distance."
    )
    query_max_area_km2: float = Field(
        default=2_000.0, gt=0, description="Area of a line or shape grown by a distance."
    )
    queries_per_user: int = Field(
        default=2, ge=1, description="Spatial queries of one user at once, per worker."
    )
    queries_total: int = Field(
        default=8, ge=1, description="Spatial queries at once per worker (below the pool size)."
    )
    retry_after_s: int = Field(default=2, ge=1)
    session_requests_per_minute: int = Field(
        default=3_000, ge=0, description="Requests of one session a minute, per worker (a "
        "minute's worth may come at once: a map loading tiles); 0: no limit.",
    )  # fmt: skip
    address_requests_per_minute: int = Field(
        default=12_000, ge=0, description="Requests from one network address a minute, per "
        "worker, whatever their session; 0: no limit.",
    )  # fmt: skip


class TrainingSettings(BaseSettings):
    """What the training resource library takes, and how a video is read out."""

    model_config = SettingsConfigDict(env_prefix="WARROOM_TRAINING_", extra="ignore")

    document_bytes: int = Field(default=20 * 1024**2, ge=1024, description="One PDF document.")
    video_bytes: int = Field(default=200 * 1024**2, ge=1024, description="One MP4 or WebM video.")
    read_chunk_bytes: int = Field(
        default=1024**2, ge=4096, description="Bytes read from the database at a time when a "
        "resource is sent (a range request reads only the slices it covers).",
    )  # fmt: skip


class PerimeterSettings(BaseSettings):
    """What a security perimeter's ring may be, and how much of its contents a page shows."""

    model_config = SettingsConfigDict(env_prefix="WARROOM_PERIMETERS_", extra="ignore")

    max_ring_area_km2: float = Field(
        default=1_000.0, gt=0, description="Area of one ring (a district is 40-2,000 km²)."
    )
    max_ring_vertices: int = Field(default=2_000, ge=4, description="Vertices of a drawn shape.")
    max_buffer_m: float = Field(default=50_000.0, gt=0, description="A buffer's distance.")
    page_size: int = Field(
        default=20, ge=0, le=1_000, description="Features per ring and layer in the contents."
    )
    max_export_rows: int = Field(default=100_000, ge=1, description="Rows of one export.")
    briefing_tiles: str | None = Field(
        default=None, max_length=500, description="URL template ({z}/{x}/{y}) of the internal "
        "tile service under the briefing map; unset: our district and precinct outlines only.",
    )  # fmt: skip
    chromium: str = Field(default="chromium", description="Browser rendering briefing PNG/PDF.")
    render_timeout_s: float = Field(default=60.0, gt=0, le=600, description="Its time limit.")


class TrackSettings(BaseSettings):
    """Vehicle positions from GPS feeds: what a batch may hold, how long positions are kept."""

    model_config = SettingsConfigDict(env_prefix="WARROOM_TRACKS_", extra="ignore")

    max_batch: int = Field(
        default=5_000, ge=1, le=100_000, description="Positions one POST /api/tracks carries."
    )
    clock_skew_s: float = Field(
        default=60.0, ge=0, le=3_600, description="How far a position's time may be ahead of "
        "the server's clock (a feed's clock runs a little fast); further is refused.",
    )  # fmt: skip
    max_speed_kmh: float = Field(default=300.0, gt=0, description="Highest speed taken as true.")
    retention_days: int = Field(
        default=90, ge=1, description="Days of positions kept: older ones are refused, and "
        "`warroom tracks prune` drops the day partitions that end before them.",
    )  # fmt: skip
    line_max_points: int = Field(
        default=10_000, ge=2, description="Points of one track line; more are thinned evenly."
    )
    line_gap_s: float = Field(
        default=300.0, gt=0, description="A silence longer than this starts a new part of a "
        "track line (a MultiLineString).",
    )  # fmt: skip


class TourismSettings(BaseSettings):
    """Visitor counts from park counters, capacity alert levels and walking distances."""

    model_config = SettingsConfigDict(env_prefix="WARROOM_TOURISM_", extra="ignore")

    max_batch: int = Field(
        default=10_000, ge=1, le=200_000, description="Readings one POST /api/tourism/counts "
        "carries; more are refused whole (413).",
    )  # fmt: skip
    max_count: int = Field(
        default=100_000, ge=1, description="Most visitors one reading may count in or out."
    )
    clock_skew_s: float = Field(
        default=120.0, ge=0, le=3_600, description="How far a reading's time may be ahead of "
        "the server's clock; further is refused.",
    )  # fmt: skip
    retention_days: int = Field(
        default=400, ge=1, description="Days of readings kept: older ones are refused, and "
        "`warroom tourism prune` drops the day partitions that end before them.",
    )  # fmt: skip
    yellow_pct: int = Field(default=80, gt=0, description="Default yellow level, % of capacity.")
    orange_pct: int = Field(default=90, gt=0, description="Default orange level.")
    red_pct: int = Field(default=95, gt=0, description="Default red level.")
    stop_pct: int = Field(default=100, gt=0, description="Default level to stop ticket sales.")
    hysteresis_pct: float = Field(
        default=5.0, ge=0, le=50, description="A park leaves a level only once its ratio is "
        "this many percentage points below the level's threshold (no alert storm at the edge).",
    )  # fmt: skip
    walk_m: float = Field(
        default=800.0, gt=0, le=5_000, description="Stations and stops this near a park's "
        "edge are related to it (walking distance).",
    )  # fmt: skip
    dwell_min: float = Field(
        default=20.0, gt=0, description="A vehicle inside a park this long is tied to it."
    )

    @model_validator(mode="after")
    def _ascending(self) -> TourismSettings:
        if not self.yellow_pct < self.orange_pct < self.red_pct < self.stop_pct:
            raise ValueError("tourism levels must rise: yellow < orange < red < stop")
        return self


class GeofenceSettings(BaseSettings):
    """When a vehicle counts as entering or leaving a perimeter's ring (hysteresis)."""

    model_config = SettingsConfigDict(env_prefix="WARROOM_GEOFENCE_", extra="ignore")

    margin_m: float = Field(
        default=25.0, ge=0, le=1_000, description="A vehicle enters a ring once at least this "
        "far inside it and leaves once at least this far outside; GPS jitter in between "
        "changes nothing.",
    )  # fmt: skip
    dwell_s: float = Field(
        default=10.0, ge=0, le=3_600, description="And stays beyond the margin this long "
        "(positions at least this far apart in time) before it counts.",
    )  # fmt: skip


class FieldworkSettings(BaseSettings):
    """Officers on site: how near a unit a check-in must be made."""

    model_config = SettingsConfigDict(env_prefix="WARROOM_FIELDWORK_", extra="ignore")

    check_in_radius_m: float = Field(
        default=300.0, gt=0, le=10_000, description="Farthest an officer's position may be "
        "from a feature (geodesic, 0 inside an area) for a check-in there; farther is refused.",
    )  # fmt: skip


class StreamSettings(BaseSettings):
    """The live event stream and replay: heartbeats, queues, the window one may scrub back."""

    model_config = SettingsConfigDict(env_prefix="WARROOM_STREAM_", extra="ignore")

    heartbeat_s: float = Field(
        default=15.0, gt=0, le=300, description="A comment line this often on a quiet stream, "
        "so proxies keep the connection open.",
    )  # fmt: skip
    retry_ms: int = Field(
        default=3_000, ge=100, le=600_000, description="How long a browser waits before it "
        "reconnects (the stream's retry: hint).",
    )  # fmt: skip
    client_queue: int = Field(
        default=1_000, ge=1, le=1_000_000, description="Events waiting for one client; a client "
        "that falls further behind is cut off (it resumes with Last-Event-ID).",
    )  # fmt: skip
    session_check_s: float = Field(
        default=30.0, gt=0, le=3_600, description="How often an open stream checks that its "
        "session still lives (a revocation ends it at the next check).",
    )  # fmt: skip
    max_clients: int = Field(default=2_000, ge=1, description="Open streams per worker.")
    page_size: int = Field(
        default=1_000, ge=1, le=100_000, description="Events one read of the log returns at "
        "most: a replay page, a step of a reconnecting client's backlog.",
    )  # fmt: skip
    window_hours: float = Field(
        default=24.0, gt=0, le=24 * 31, description="How far back replay and state-at-time "
        "reach.",
    )  # fmt: skip
    position_max_age_s: float = Field(
        default=600.0, gt=0, description="A vehicle's last position before a past instant "
        "counts as where it was only if it is at most this old.",
    )  # fmt: skip


class OpsSettings(BaseSettings):
    """Logs and metrics: how the process reports on itself."""

    model_config = SettingsConfigDict(env_prefix="WARROOM_OPS_", extra="ignore")

    log_format: Literal["json", "plain"] = Field(
        default="json", description="One JSON object per line, or plain text for a terminal."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    metrics_token: SecretStr | None = Field(
        default=None,
        description="Bearer token a Prometheus scraper may send to GET /metrics instead of "
        "an admin, security_admin or auditor session; unset means sessions only.",
    )
    backup_dir: Path | None = Field(
        default=None,
        description="Directory whose subdirectories hold `warroom backup` outputs, listed "
        "with their verification on the operations page; unset lists none.",
    )
    recent_errors: int = Field(
        default=200, ge=1, le=10_000, description="5xx answers each worker keeps for the "
        "operations page (the oldest go first).",
    )  # fmt: skip
    feedback_screenshot_bytes: int = Field(
        default=1_500_000, ge=10_000, description="Largest PNG screenshot a feedback may carry "
        "(the request body cap, WARROOM_LIMITS_MAX_BODY_BYTES, applies too).",
    )  # fmt: skip

    @field_validator("metrics_token")
    @classmethod
    def _long_token(cls, token: SecretStr | None) -> SecretStr | None:
        if token is not None and len(token.get_secret_value()) < 24:
            raise ValueError(
                "must be 24 characters or more, e.g. the output of "
                "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
            )
        return token


class CryptoSettings(BaseSettings):
    """Where the keys come from (layers/crypto/keys.py): never the repository or database."""

    model_config = SettingsConfigDict(env_prefix="WARROOM_CRYPTO_", extra="ignore")

    key_file: Path = Field(
        default=PROJECT_DIR / ".warroom" / "keys.json",
        description="JSON key ring only its owner may read (mode 0600); `warroom keys init` "
        "creates it.",
    )
    keys: SecretStr | None = Field(
        default=None,
        description="The key ring as JSON, as in the key file (from a secret store); set, it "
        "wins over key_file.",
    )
    signing_key_file: Path | None = Field(
        default=None,
        description="SM2 private key (64 hex digits, mode 0600) that signs backup manifests "
        "and exports; `warroom keys sm2-keygen` writes one.",
    )
    verify_key_file: Path | None = Field(
        default=None,
        description="SM2 public key (128 hex digits) that checks those signatures; set, a "
        "restore refuses a backup whose signature fails or is missing.",
    )

    @field_validator("signing_key_file", "verify_key_file", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value


class MapSettings(BaseSettings):
    """What the map pages draw under the layers: our own data, or an internal tile service."""

    model_config = SettingsConfigDict(env_prefix="WARROOM_MAP_", extra="ignore")

    basemap_url: str | None = Field(
        default=None,
        description="An internal tile service drawn under our own base map (the bureau's GIS "
        "server): an XYZ raster template with {z}, {x} and {y}, or a MapLibre style JSON "
        "(WARROOM_MAP_BASEMAP_KIND=style). Unset: only our own data (boundaries, parks...).",
    )
    basemap_kind: Literal["raster", "style"] = "raster"
    basemap_tile_size: int = Field(default=256, ge=64, le=1024)

    @model_validator(mode="after")
    def _usable_basemap(self) -> MapSettings:
        url = self.basemap_url
        if not url:
            self.basemap_url = None
            return self
        parts = urlsplit(url)
        if not (parts.scheme in ("http", "https") and parts.hostname) and not url.startswith("/"):
            raise ValueError(f"basemap URL {url!r} must be http(s)://host/... or /path on our own")
        if self.basemap_kind == "raster" and not all(k in url for k in ("{z}", "{x}", "{y}")):
            raise ValueError(f"raster basemap URL {url!r} needs {{z}}, {{x}} and {{y}}")
        return self

    @property
    def basemap_origin(self) -> str | None:
        """Return the scheme://host[:port] of another origin's tile service, if one is set."""
        parts = urlsplit(self.basemap_url or "")
        return f"{parts.scheme}://{parts.netloc}" if parts.netloc else None


class Settings(BaseSettings):
    """All settings of one Warroom process."""

    model_config = SettingsConfigDict(env_prefix="WARROOM_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    public_url: str | None = Field(
        default=None,
        description="Absolute base URL users reach the app at (https://warroom.bureau.local); "
        "every link is built from it. Unset: from the request's Host, if trusted.",
    )
    trusted_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Host names (comma-separated, '*.example' for subdomains, '*' for any) "
        "answered besides localhost, WARROOM_HOST and the public URL's; others get 400.",
    )
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Reverse proxies (comma-separated addresses or networks) whose "
        "X-Forwarded-For and X-Forwarded-Proto are believed: the client's address and https "
        "come from them (docs/deployment-tls.md). Empty: the peer is the client.",
    )
    timezone: str = Field(
        default="Asia/Shanghai",
        description="The bureau's time zone (IANA name): the day a date means, times without one.",
    )
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    cluster: ClusterSettings = Field(default_factory=ClusterSettings)
    security: SecuritySettings = Field(default_factory=SecuritySettings)
    features: FeatureSettings = Field(default_factory=FeatureSettings)
    limits: LimitSettings = Field(default_factory=LimitSettings)
    perimeters: PerimeterSettings = Field(default_factory=PerimeterSettings)
    training: TrainingSettings = Field(default_factory=TrainingSettings)
    tracks: TrackSettings = Field(default_factory=TrackSettings)
    geofence: GeofenceSettings = Field(default_factory=GeofenceSettings)
    tourism: TourismSettings = Field(default_factory=TourismSettings)
    fieldwork: FieldworkSettings = Field(default_factory=FieldworkSettings)
    stream: StreamSettings = Field(default_factory=StreamSettings)
    ops: OpsSettings = Field(default_factory=OpsSettings)
    crypto: CryptoSettings = Field(default_factory=CryptoSettings)
    map: MapSettings = Field(default_factory=MapSettings)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {name!r}; use an IANA name such as Asia/Shanghai"
            ) from None
        return name

    @field_validator("public_url")
    @classmethod
    def _absolute_base(cls, url: str | None) -> str | None:
        if not url:
            return None
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"public URL {url!r} must be absolute: https://host[:port][/path]")
        if parts.query or parts.fragment:
            raise ValueError(f"public URL {url!r} must not have a query or fragment")
        return url.rstrip("/")

    @field_validator("trusted_hosts", "trusted_proxies", mode="before")
    @classmethod
    def _comma_list(cls, value: object) -> object:
        if isinstance(value, str):
            return [host.strip().lower() for host in value.split(",") if host.strip()]
        return value

    @model_validator(mode="after")
    def _secure_cookie_on_tls(self) -> Settings:
        """Mark the session cookie Secure when users reach the app over https, unless told."""
        https = (self.public_url or "").startswith("https://")
        if https and "cookie_secure" not in self.security.model_fields_set:
            self.security = self.security.model_copy(update={"cookie_secure": True})
        return self

    @property
    def allowed_hosts(self) -> frozenset[str]:
        """Return the Host names the app answers (patterns as in ``trusted_hosts``)."""
        own = {"localhost", "127.0.0.1", "::1", self.host.lower()} - {"0.0.0.0", "::"}
        if self.public_url:
            own.add((urlsplit(self.public_url).hostname or "").lower())
        return frozenset(own | {host.lower() for host in self.trusted_hosts})

    @property
    def zone(self) -> ZoneInfo:
        """Return the bureau's time zone."""
        return ZoneInfo(self.timezone)
