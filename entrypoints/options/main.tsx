import { createRoot } from 'react-dom/client';
import '@/components/theme.css';
import { Options } from '@/components/Options';

createRoot(document.getElementById('root')!).render(<Options />);
