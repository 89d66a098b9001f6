"""dma: the fetch, evict and prefetch channels between the hot, warm and cold tier ports."""
