"""The API's resources, one module each: serializers, filter set and views of one resource."""
