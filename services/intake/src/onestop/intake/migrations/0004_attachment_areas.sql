-- The service areas whose cases an attachment came with, learned from CaseRaised: staff who work in some
-- areas only may read the attachments of those areas' cases. A view, rebuilt from the cases topic.
CREATE TABLE attachment_areas (
    attachment_id uuid NOT NULL REFERENCES attachments (attachment_id) ON DELETE CASCADE,
    service_area  text NOT NULL,
    PRIMARY KEY (attachment_id, service_area)
);
