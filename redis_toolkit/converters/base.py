"""The converter interface of redis-toolkit 0.4: ``encode(data) -> bytes``, ``decode(bytes)``."""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from typing import Any

from .errors import ConverterDependencyError

__all__ = ["BaseConverter"]


class BaseConverter(ABC):
    """A media codec: ``encode(data) -> bytes`` and ``decode(bytes) -> data``.

    Keyword arguments of the constructor are kept in ``config``. Optional packages are imported
    on first use; when missing, :class:`ConverterDependencyError` (an ``ImportError``) names
    the extra to install.
    """

    #: The converter's name in the registry (``get_converter(name)``).
    name = "base"

    def __init__(self, **kwargs: Any) -> None:
        self.config = kwargs
        self._dependencies_checked = False

    @abstractmethod
    def _check_dependencies(self) -> None:
        """Import the packages this converter needs, or raise ConverterDependencyError."""

    @abstractmethod
    def encode(self, data: Any) -> bytes:
        """Encode ``data`` as bytes to store in Redis."""

    @abstractmethod
    def decode(self, data: bytes) -> Any:
        """Decode bytes written by :meth:`encode`."""

    @property
    @abstractmethod
    def supported_formats(self) -> list[str]:
        """The formats this converter writes."""

    @property
    @abstractmethod
    def default_format(self) -> str:
        """The format used when none is given."""

    def _ensure_dependencies(self) -> None:
        if not self._dependencies_checked:
            self._check_dependencies()
            self._dependencies_checked = True

    def _import(self, module: str, package: str, install: str) -> Any:
        try:
            return importlib.import_module(module)
        except ImportError as e:
            raise ConverterDependencyError(self.name, [package], install, e) from e

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.config})"
