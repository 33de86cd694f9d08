package dev.hopper.topology;

import java.util.List;

/**
 * What {@link Topology#declare} did.
 *
 * @param created objects that did not exist and were created ({@code queue 'uploads.dead'})
 * @param existing objects that already existed with the right arguments
 */
public record DeclareReport(List<String> created, List<String> existing) {
    public DeclareReport {
        created = List.copyOf(created);
        existing = List.copyOf(existing);
    }
}
