"""The bundled sample estate (翠湖花园): data files, installed inside cuijiao."""
