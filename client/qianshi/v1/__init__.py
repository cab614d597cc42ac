"""Generated stubs of the Qianshi contract (qianshi.v1); regenerate with scripts/gen_protos.py."""
