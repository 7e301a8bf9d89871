DROP TABLE blob_deletions;
DROP TABLE leases;
