"""The catalog: table metadata, the metadata store, and the one gate every read and write passes."""
