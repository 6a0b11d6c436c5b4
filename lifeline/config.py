"""Settings: one object read from the environment (``LIFELINE_*``) and optionally a file.

Defaults give the embedded single-machine setup: a DuckDB file under the data directory and no
MQTT broker. Production sets ``LIFELINE_DB=postgresql://…`` and ``LIFELINE_MQTT=mqtt://…``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_data_dir() -> Path:
    return Path.home() / ".local" / "share" / "lifeline"


def _default_cache_dir() -> Path:
    return Path.home() / ".cache" / "lifeline"


class Settings(BaseSettings):
    """lifeline's settings. Each field maps to ``LIFELINE_<NAME>`` in the environment.

    A file named by ``LIFELINE_ENV_FILE`` (dotenv format) is read too; the environment wins.
    """

    model_config = SettingsConfigDict(env_prefix="LIFELINE_", env_file=None, extra="ignore")

    data_dir: Path = Field(
        default_factory=_default_data_dir, description="Where the embedded store and outputs live."
    )
    cache_dir: Path = Field(
        default_factory=_default_cache_dir,
        description="Derived artefacts (built town, precomputations).",
    )
    db: str = Field(
        default="",
        description="Store URL: empty or duckdb:///path for DuckDB; postgresql://… for PostgreSQL.",
    )
    mqtt: str = Field(
        default="", description="MQTT broker URL, e.g. mqtt://127.0.0.1:1883; empty disables MQTT."
    )
    mqtt_topic: str = Field(
        default="lifeline/readings/#", description="Topic filter for sensor readings."
    )
    mqtt_events_topic: str = Field(
        default="lifeline/events/#",
        description="Topic filter for smart-meter and switchgear events (last level: the kind).",
    )
    mqtt_throttle: float = Field(
        default=10.0,
        description="Per-sensor rate limit on MQTT readings, as a multiple of the sensor's "
        "nominal rate (readings beyond it are rejected as throttled); 0 turns it off, e.g. "
        "for a drill published faster than real time.",
    )
    mqtt_client_id: str = Field(
        default="lifeline-serve",
        description="MQTT client id of `lifeline serve` (its persistent session; the events "
        "subscriber adds '-events'). Keep it fixed across restarts; unique per server.",
    )
    llm_url: str = Field(
        default="", description="Optional OpenAI-compatible endpoint for narrative summaries."
    )
    lang: str = Field(
        default="zh-CN", description="Default language of generated text: zh-CN or en."
    )

    def duckdb_path(self) -> Path:
        """The DuckDB file used when ``db`` is empty or a ``duckdb://`` URL."""
        if self.db.startswith("duckdb://"):
            return Path(self.db.removeprefix("duckdb://"))
        return self.data_dir / "lifeline.duckdb"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings (read once from the environment)."""
    import os

    env_file = os.environ.get("LIFELINE_ENV_FILE")
    if env_file:
        return Settings(_env_file=env_file)  # type: ignore[call-arg]
    return Settings()
