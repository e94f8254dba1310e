//! Any bytes as a scrape of a livekit-server Prometheus endpoint, through the reader the node
//! watcher uses: an exposition or the line that is wrong, never a panic; and every exposition
//! it accepts reduces to nodes and figures, against itself a second later, without one.

#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use lktop::nodes::NodeScrape;
use lktop::nodes::exposition::Exposition;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Exposition::parse(text) {
        Ok(exposition) => {
            // Every label set was checked while parsing: reading it back finds every pair.
            for sample in &exposition.samples {
                for (name, _) in sample.labels() {
                    assert!(!name.is_empty(), "a label without a name");
                }
            }
        }
        Err(err) => assert!(err.line >= 1, "an error names its line"),
    }
    if let Ok(scrape) = NodeScrape::parse(text) {
        let nodes = scrape.health_since(&scrape, Duration::from_secs(1));
        assert_eq!(nodes.len(), scrape.node_ids().count());
    }
});
