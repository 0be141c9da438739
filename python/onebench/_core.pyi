# Type stubs of the Rust extension module (rust/python). Checked by mypy.stubtest.
from os import PathLike
from typing import Any, final

import numpy as np
import numpy.typing as npt

__all__ = ["PoolCore", "__version__", "rank_dataset_methods"]

__version__: str

_Ids = tuple[list[str], npt.NDArray[np.uint32]]

def rank_dataset_methods() -> list[str]: ...

@final
class Solution:
    def to_bytes(self) -> bytes: ...
    @staticmethod
    def from_bytes(data: bytes) -> Solution: ...

@final
class PoolCore:
    @staticmethod
    def create(path: str | PathLike[str]) -> PoolCore: ...
    @staticmethod
    def open(path: str | PathLike[str]) -> PoolCore: ...
    def refresh(self) -> bool: ...
    @property
    def path(self) -> str: ...
    @property
    def version(self) -> int: ...
    def stats(self) -> dict[str, int]: ...
    def add_samples(
        self,
        ids: list[str],
        benchmarks: list[str],
        modalities: list[str],
        texts: list[str],
        references: list[list[str]],
        metadata_json: list[str],
        same_as: list[str] | None = None,
    ) -> dict[str, int]: ...
    def add_models(
        self, ids: list[str], aliases: list[list[str]], metadata_json: list[str]
    ) -> dict[str, int]: ...
    def add_measurements(
        self,
        provenance_json: str,
        cardinal: list[tuple[_Ids, _Ids, npt.NDArray[np.float64], str]],
        pairwise: tuple[_Ids, _Ids, _Ids, npt.NDArray[np.uint8], npt.NDArray[np.float64] | None]
        | None = None,
        rankings: tuple[_Ids, npt.NDArray[np.uint64], _Ids, npt.NDArray[np.uint32]] | None = None,
        samples: tuple[list[str], list[str], list[str], list[str], list[list[str]], list[str]]
        | None = None,
        models: tuple[list[str], list[list[str]], list[str]] | None = None,
        same_as: list[str] | None = None,
    ) -> dict[str, int]: ...
    def commit_many(
        self,
        batches: list[
            tuple[
                str,
                list[tuple[_Ids, _Ids, npt.NDArray[np.float64], str]],
                tuple[_Ids, _Ids, _Ids, npt.NDArray[np.uint8], npt.NDArray[np.float64] | None]
                | None,
                tuple[_Ids, npt.NDArray[np.uint64], _Ids, npt.NDArray[np.uint32]] | None,
                tuple[list[str], list[str], list[str], list[str], list[list[str]], list[str]]
                | None,
                tuple[list[str], list[list[str]], list[str]] | None,
                list[str] | None,
            ]
        ],
    ) -> list[dict[str, int]]: ...
    def compact(self) -> int: ...
    def sample_index(self, id: str) -> int | None: ...
    def model_index(self, id: str) -> int | None: ...
    def sample_columns(
        self,
    ) -> tuple[
        list[str],
        list[str],
        list[str],
        list[str],
        list[list[str]],
        list[str],
        list[str],
        list[str | None],
    ]: ...
    def sample_copies(
        self,
    ) -> tuple[list[str], list[str], list[str], list[str], list[list[str]], list[str]]: ...
    @staticmethod
    def content_hashes(texts: list[str]) -> list[str]: ...
    def sample_ids(self) -> list[str]: ...
    def model_columns(self) -> tuple[list[str], list[list[str]], list[str]]: ...
    def provenances(self) -> list[str]: ...
    def cardinal_rows(
        self,
    ) -> tuple[
        npt.NDArray[np.uint32],
        npt.NDArray[np.uint32],
        npt.NDArray[np.float32],
        npt.NDArray[np.uint32],
    ]: ...
    def pairwise_rows(
        self,
    ) -> tuple[
        npt.NDArray[np.uint32],
        npt.NDArray[np.uint32],
        npt.NDArray[np.uint32],
        npt.NDArray[np.uint8],
        npt.NDArray[np.float32],
        npt.NDArray[np.uint32],
    ]: ...
    def ranking_rows(
        self,
    ) -> tuple[
        npt.NDArray[np.uint32],
        npt.NDArray[np.uint64],
        npt.NDArray[np.uint32],
        npt.NDArray[np.uint32],
        npt.NDArray[np.uint32],
    ]: ...
    def rank(
        self,
        subset: npt.NDArray[np.uint32] | None,
        method: str,
        alpha: float,
        ci_level: float,
        interval: str,
        replicates: int,
        seed: int,
        tolerance: float,
        max_iterations: int,
        initial: npt.NDArray[np.float64] | None = None,
        min_samples: int = 0,
        initial_solution: Solution | None = None,
        form: str = "auto",
    ) -> dict[str, Any]: ...
    def item_diagnostics(
        self,
        subset: npt.NDArray[np.uint32] | None,
        alpha: float,
        tolerance: float,
        max_iterations: int,
        initial_solution: Solution | None = None,
    ) -> dict[str, Any]: ...
