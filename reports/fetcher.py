"""The only way WeasyPrint may load a resource while it renders a report: local files, allow-listed.

A report's HTML carries values from a scenario or a customer ledger. Even escaped, a template
or a notebook's Markdown could reference ``http://…`` or ``file:///etc/passwd``; WeasyPrint's
default fetcher would follow either (and HTTP redirects). This fetcher allows ``file:`` URLs
whose path — symlinks resolved — lies inside the allowed folders (the templates folder and the
report's output folder), and ``data:`` URIs, which carry their content inline. Everything else is
refused with WeasyPrint's ``URLFetchingError`` and recorded, so the caller can say what was
left out.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Iterable, NoReturn
from urllib.parse import unquote, urlsplit

from weasyprint.urls import URLFetcher, URLFetcherResponse, URLFetchingError

ALLOWED_SCHEMES = ("file", "data")


class RestrictedFetcher(URLFetcher):
    """A ``URLFetcher`` that reads only files inside ``allowed_folders`` (and ``data:`` URIs).

    No network protocol is ever opened and redirects are off; the check happens on the resolved
    path, so a symlink in the output folder that points elsewhere is refused too.
    """

    def __init__(self, allowed_folders: Iterable[str | Path]) -> None:
        super().__init__(allowed_protocols=ALLOWED_SCHEMES, allow_redirects=False, fail_on_errors=False)
        self.allowed_folders = tuple(Path(folder).resolve() for folder in allowed_folders)
        if not self.allowed_folders:
            raise ValueError("RestrictedFetcher needs at least one allowed folder")
        self.fetched: list[str] = []
        self.refused: list[tuple[str, str]] = []  # (url, reason)

    def fetch(self, url: str, headers: dict | None = None) -> URLFetcherResponse:
        scheme = urlsplit(url).scheme.lower()
        if scheme == "data":
            # The content is inside the URL itself: nothing is loaded from anywhere.
            response = super().fetch(url, headers)
            self.fetched.append(url[:40])
            return response
        if scheme != "file":
            self._refuse(url, f"scheme {scheme or '(none)'!r} is not allowed (only file: inside "
                              f"{self._folders_text()} and data:)")
        path = self.allowed_path(url)
        content_type, encoding = mimetypes.guess_type(path.name)
        response_headers = {"Content-Type": content_type or "application/octet-stream"}
        if encoding:
            # A compressed file (.svgz) is handed over as is; WeasyPrint decides what to do with it.
            response_headers["Content-Encoding"] = encoding
        self.fetched.append(url)
        return URLFetcherResponse(path.as_uri(), path.read_bytes(), response_headers)

    def allowed_path(self, url: str) -> Path:
        """The resolved local path of a ``file:`` URL, or ``URLFetchingError`` if it is outside."""
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            self._refuse(url, f"file URL on host {parts.netloc!r}: only local files are allowed")
        try:
            path = Path(unquote(parts.path)).resolve(strict=True)
        except (OSError, RuntimeError) as exc:
            self._refuse(url, f"cannot resolve the file: {exc}")
        if not any(path.is_relative_to(folder) for folder in self.allowed_folders):
            self._refuse(url, f"{path} is outside the allowed folders {self._folders_text()}")
        if not path.is_file():
            self._refuse(url, f"{path} is not a regular file")
        return path

    def _folders_text(self) -> str:
        return ", ".join(str(folder) for folder in self.allowed_folders)

    def _refuse(self, url: str, reason: str) -> NoReturn:
        self.refused.append((url, reason))
        raise URLFetchingError(f"refused {url}: {reason}")
