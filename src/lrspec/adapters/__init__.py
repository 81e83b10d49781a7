"""The top layer: one module per framework lrspec talks to, both directions.

* :mod:`lrspec.adapters.torch` -- ``spec.to_torch(optimizer)`` (:class:`LRSpecScheduler`)
* :mod:`lrspec.adapters.optax` -- ``spec.to_optax()``
* :mod:`lrspec.adapters.keras` -- ``spec.to_keras()``, ``lrspec.from_keras``, and the
  registration that lets ``keras.models.load_model`` find lrspec's schedule

Each imports its framework; none is imported by ``import lrspec``.
"""
