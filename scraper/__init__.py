"""The Scrapy project: settings, the item, the base spider, extraction, pipelines,
middlewares and extensions. Knows nothing of feeds or scheduling."""
