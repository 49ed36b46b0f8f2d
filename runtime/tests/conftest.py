"""Each test builds a Flask app twice: as the project had it (every view a Flask view) and as the
converter leaves it (some views native FastAPI routes behind a FlaskBridge)."""
