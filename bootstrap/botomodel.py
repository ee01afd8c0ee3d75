"""botocore's service models, loaded once per process and shared: by the sessions (aws.py) and by
the input checks that take AWS's patterns from the model itself (fieldcheck.py). Imports botocore's
loader only, never boto3, and only when first asked."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import botocore.loaders


@functools.cache
def shared_loader() -> botocore.loaders.Loader:
    """One loader for every session: each new Session would otherwise parse the large IAM model
    again (~150 ms per profile); the loader caches what it has parsed."""
    import botocore.loaders  # noqa: PLC0415 (--help must not pay for botocore)

    return botocore.loaders.create_loader()


def shape(service: str, name: str) -> dict[str, Any]:
    """One shape of a service's model, e.g. ("iam", "tagKeyType") -> its type, bounds and pattern."""
    # api_version=None as botocore's client creation passes it: the same cache entry, parsed once.
    model = shared_loader().load_service_model(service, "service-2", api_version=None)
    return dict(model["shapes"][name])
