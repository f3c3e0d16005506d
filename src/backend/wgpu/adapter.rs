//! Finding the adapters wgpu can open here, ranking them (discrete GPUs
//! first), and describing them as `clearstress devices` lists them; with the
//! switch that keeps Mesa's device-select layer quiet during the probe.

use ::wgpu as gpu;

/// An adapter wgpu found, as `clearstress devices` lists it.
#[derive(Debug, Clone)]
pub struct AdapterSummary {
    pub info: gpu::AdapterInfo,
    pub limits: gpu::Limits,
}

impl AdapterSummary {
    /// One line: name, type, API and driver.
    pub fn describe(&self) -> String {
        let i = &self.info;
        let driver = [i.driver.as_str(), i.driver_info.as_str()]
            .iter()
            .filter(|s| !s.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join(" ");
        format!(
            "{} ({:?}, {:?}{})",
            i.name,
            i.device_type,
            i.backend,
            if driver.is_empty() {
                String::new()
            } else {
                format!(", {driver}")
            }
        )
    }

    /// Whether this is a real GPU rather than a software rasteriser.
    pub fn is_gpu(&self) -> bool {
        matches!(
            self.info.device_type,
            gpu::DeviceType::DiscreteGpu | gpu::DeviceType::IntegratedGpu
        )
    }
}

/// Keeps Mesa's device-select layer out of the Vulkan probe, which otherwise
/// prints "error: XDG_RUNTIME_DIR is invalid or not set in the environment."
/// on every headless machine, even when the run succeeds.
///
/// The chain: wgpu-hal 30 enables every window-system surface extension the
/// loader offers (`vulkan::Instance::desired_extensions` pushes
/// VK_KHR_xlib_surface, VK_KHR_xcb_surface and VK_KHR_wayland_surface; there
/// is no instance option to leave them out); seeing VK_KHR_wayland_surface
/// enabled, the implicit layer VK_LAYER_MESA_device_select (shipped with
/// mesa-vulkan-drivers) connects to the Wayland compositor to find the GPU
/// it draws on, and libwayland-client prints that line when there is none.
/// The layer only reorders the adapters, which [`ranked_adapters`] ranks
/// itself, and `NODEVICE_SELECT=1` is the layer's own off switch (its
/// manifest's `disable_environment`). A user who set the switch, or asks the
/// layer for a device (MESA_VK_DEVICE_SELECT, DRI_PRIME), keeps the layer.
///
/// It sets an environment variable: call it before any other thread starts.
pub fn quiet_device_select() {
    let asked = ["NODEVICE_SELECT", "MESA_VK_DEVICE_SELECT", "DRI_PRIME"]
        .iter()
        .any(|v| std::env::var_os(v).is_some());
    if !asked {
        std::env::set_var("NODEVICE_SELECT", "1");
    }
}

fn instance() -> gpu::Instance {
    gpu::Instance::new(gpu::InstanceDescriptor::new_without_display_handle_from_env())
}

/// Every adapter wgpu can open here, best first (discrete, integrated, virtual,
/// then CPU implementations).
pub(super) fn ranked_adapters() -> Vec<gpu::Adapter> {
    let mut adapters = pollster::block_on(instance().enumerate_adapters(gpu::Backends::all()));
    adapters.sort_by_key(|a| match a.get_info().device_type {
        gpu::DeviceType::DiscreteGpu => 0,
        gpu::DeviceType::IntegratedGpu => 1,
        gpu::DeviceType::VirtualGpu => 2,
        gpu::DeviceType::Cpu => 3,
        gpu::DeviceType::Other => 4,
    });
    adapters
}

/// The adapters wgpu finds, best first.
pub fn adapters() -> Vec<AdapterSummary> {
    ranked_adapters()
        .iter()
        .map(|a| AdapterSummary {
            info: a.get_info(),
            limits: a.limits(),
        })
        .collect()
}
