-- The schema of news-monitor's first release (git b178551, monitor/store/tables.py), as its
-- SQLModel.metadata.create_all made it on postgresql: the statements it executed, captured verbatim
-- (trailing spaces included: SQLite keeps the text). tests/test_migrations.py builds a
-- pre-migrations database from it.

CREATE TABLE feeds (
	id SERIAL NOT NULL, 
	url VARCHAR(2048) NOT NULL, 
	name VARCHAR, 
	title VARCHAR, 
	active BOOLEAN NOT NULL, 
	origin VARCHAR NOT NULL, 
	interval_seconds INTEGER NOT NULL, 
	pinned BOOLEAN NOT NULL, 
	next_check_at TIMESTAMP WITH TIME ZONE, 
	lease_until TIMESTAMP WITH TIME ZONE, 
	lease_owner VARCHAR, 
	etag VARCHAR, 
	last_modified VARCHAR, 
	polls INTEGER NOT NULL, 
	last_polled_at TIMESTAMP WITH TIME ZONE, 
	last_success_at TIMESTAMP WITH TIME ZONE, 
	error_count INTEGER NOT NULL, 
	last_error TEXT, 
	last_error_at TIMESTAMP WITH TIME ZONE, 
	entries_seen INTEGER NOT NULL, 
	created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (url)
);

CREATE INDEX ix_feeds_next_check_at ON feeds (next_check_at);

CREATE TABLE mutes (
	id SERIAL NOT NULL, 
	watchlist VARCHAR NOT NULL, 
	since TIMESTAMP WITH TIME ZONE NOT NULL, 
	until TIMESTAMP WITH TIME ZONE NOT NULL, 
	settled BOOLEAN NOT NULL, 
	PRIMARY KEY (id)
);

CREATE INDEX ix_mutes_watchlist ON mutes (watchlist);

CREATE INDEX ix_mutes_until ON mutes (until);

CREATE TABLE articles (
	id SERIAL NOT NULL, 
	url VARCHAR(2048) NOT NULL, 
	link VARCHAR(4096) NOT NULL, 
	feed_id INTEGER, 
	title TEXT NOT NULL, 
	text TEXT NOT NULL, 
	summary TEXT NOT NULL, 
	author VARCHAR, 
	published TIMESTAMP WITH TIME ZONE, 
	lang VARCHAR, 
	outlet VARCHAR, 
	status VARCHAR NOT NULL, 
	fetched_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	story_id VARCHAR(64), 
	features TEXT, 
	PRIMARY KEY (id), 
	UNIQUE (url), 
	FOREIGN KEY(feed_id) REFERENCES feeds (id)
);

CREATE INDEX ix_articles_published ON articles (published);

CREATE INDEX ix_articles_fetched_at ON articles (fetched_at);

CREATE INDEX ix_articles_feed_id ON articles (feed_id);

CREATE INDEX ix_articles_story_id ON articles (story_id);

CREATE TABLE feed_alerts (
	feed_id INTEGER NOT NULL, 
	failing_since TIMESTAMP WITH TIME ZONE NOT NULL, 
	alerted_at TIMESTAMP WITH TIME ZONE, 
	PRIMARY KEY (feed_id), 
	FOREIGN KEY(feed_id) REFERENCES feeds (id)
);

CREATE TABLE entry_keys (
	key VARCHAR(4096) NOT NULL, 
	article_id INTEGER NOT NULL, 
	PRIMARY KEY (key), 
	FOREIGN KEY(article_id) REFERENCES articles (id)
);

CREATE INDEX ix_entry_keys_article_id ON entry_keys (article_id);

CREATE TABLE matches (
	id SERIAL NOT NULL, 
	article_id INTEGER NOT NULL, 
	watchlist VARCHAR NOT NULL, 
	score FLOAT NOT NULL, 
	why TEXT NOT NULL, 
	snippet TEXT NOT NULL, 
	parts TEXT NOT NULL, 
	alerted BOOLEAN NOT NULL, 
	duplicate_of INTEGER, 
	created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_match_article_watchlist UNIQUE (article_id, watchlist), 
	FOREIGN KEY(article_id) REFERENCES articles (id), 
	FOREIGN KEY(duplicate_of) REFERENCES matches (id)
);

CREATE INDEX ix_matches_article_id ON matches (article_id);

CREATE INDEX ix_matches_created_at ON matches (created_at);

CREATE INDEX ix_matches_watchlist ON matches (watchlist);

CREATE TABLE deliveries (
	id SERIAL NOT NULL, 
	match_id INTEGER NOT NULL, 
	channel VARCHAR NOT NULL, 
	status VARCHAR NOT NULL, 
	attempts INTEGER NOT NULL, 
	next_attempt_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	lease_until TIMESTAMP WITH TIME ZONE, 
	lease_owner VARCHAR, 
	last_error TEXT, 
	sent_at TIMESTAMP WITH TIME ZONE, 
	created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_delivery_match_channel UNIQUE (match_id, channel), 
	FOREIGN KEY(match_id) REFERENCES matches (id)
);

CREATE INDEX ix_deliveries_match_id ON deliveries (match_id);

CREATE INDEX ix_deliveries_due ON deliveries (status, next_attempt_at);

CREATE TABLE delivery_holds (
	delivery_id INTEGER NOT NULL, 
	reason VARCHAR NOT NULL, 
	held_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	PRIMARY KEY (delivery_id), 
	FOREIGN KEY(delivery_id) REFERENCES deliveries (id)
);
