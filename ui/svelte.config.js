// Lets the Svelte plugin and svelte-check understand `<script lang="ts">`.
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

export default { preprocess: vitePreprocess() };
