"""Flask app, Folium map builders, JSON/GeoJSON API, embeds and i18n."""
